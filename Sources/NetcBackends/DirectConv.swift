import CNetcKernels

extension Kernels {
  /// Input channels up to which an fp32 conv reads its windows from a zero-padded copy of
  /// the input instead of im2col tiles. With 3 channels (a network's first conv) a window
  /// row is a run of 9 or 21 floats, and copying them took a quarter of the time of
  /// ResNet-50's 7x7 stem; with many channels the runs are long and im2col costs little
  /// (a direct kernel measured as fast as im2col on ResNet-50's 3x3 convs).
  static let directConvMaxChannels = 4

  /// Whether `directConvForward` takes the conv: ungrouped, 2-D, fp32, at most
  /// `directConvMaxChannels` input channels, no horizontal dilation, on AVX-512.
  static func directConvApplies<T: TensorScalar>(_ g: ConvGeometry, _ packed: PackedConv<T>) -> Bool {
    T.self == Float.self && netc_kernel_level() >= 2 && !packed.panels.isEmpty && g.groups == 1 && g.input[0] == 1
      && g.kernel[0] == 1 && g.dilation[2] == 1 && g.inChannels <= directConvMaxChannels && g.outPositions > 0
  }

  /// Whether `convForward` may write its output over its pass's residual: true where each
  /// residual element is read just before the result that replaces it is stored, that is
  /// on netc's fp32 kernels, the direct one and the GEMM with K in one block (with more,
  /// the GEMM keeps the sums of the earlier K blocks in the output).
  static func writesOverResidual<T: TensorScalar>(_ g: ConvGeometry, _ packed: PackedConv<T>) -> Bool {
    guard T.self == Float.self, netc_kernel_level() >= 1, !packed.panels.isEmpty, packed.depthwise.isEmpty else {
      return false
    }
    return directConvApplies(g, packed) || g.taps * g.groupIn <= Int(NETC_GEMM_ONE_BLOCK_K)
  }

  /// `convForward` of an ungrouped 2-D fp32 conv with at most `directConvMaxChannels` input
  /// channels through `netc_conv_direct_rows`, output rows spread over the threads. Returns
  /// false, having written nothing, when the conv or the CPU does not qualify.
  static func directConvForward<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ g: ConvGeometry, _ packed: PackedConv<T>, into y: UnsafeMutablePointer<T>,
    pass: OutputPass<T>, threads: Int
  ) -> Bool {
    guard directConvApplies(g, packed) else { return false }
    let c = g.inChannels, h = g.input[1], w = g.input[2], oh = g.output[1], ow = g.output[2], n = g.outChannels
    // The padded copy covers every window and no more: rows and columns in padded
    // coordinates, whose (0, 0) is the input's (-padH, -padW).
    let ph = (oh - 1) * g.stride[1] + (g.kernel[1] - 1) * g.dilation[1] + 1
    let pw = (ow - 1) * g.stride[2] + g.kernel[2]
    let padded = UnsafeMutablePointer<Float>.allocate(capacity: ph * pw * c)
    defer { padded.deallocate() }
    padded.initialize(repeating: 0, count: ph * pw * c)
    let xf = UnsafeRawPointer(x).assumingMemoryBound(to: Float.self)
    let columns = min(w, pw - g.padBegin[2])
    if columns > 0 {
      for ih in 0..<min(h, ph - g.padBegin[1]) {
        (padded + ((ih + g.padBegin[1]) * pw + g.padBegin[2]) * c).update(from: xf + ih * w * c, count: columns * c)
      }
    }
    func float(_ p: UnsafePointer<T>?) -> SharedPointer<Float>? {
      p.map { SharedPointer(base: UnsafeMutableRawPointer(mutating: $0).assumingMemoryBound(to: Float.self)) }
    }
    let xs = SharedPointer(base: padded), bias = float(pass.bias), residual = float(pass.residual)
    let ys = SharedPointer(base: UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self))
    let geometry = g.window2D, activation = pass.activation.kernelCode
    // Four bands of output rows per worker, handed out as they finish.
    let workers = max(1, threads), bands = min(oh, 4 * workers), per = (oh + bands - 1) / bands
    packed.panels.withUnsafeBufferPointer { pb in
      let ws = SharedPointer(base: UnsafeMutablePointer(mutating: pb.baseAddress!))
      parallelFor(bands, threads: threads, cost: g.outPositions &* n &* (g.taps &* c)) { band in
        let r0 = min(oh, band * per), r1 = min(oh, r0 + per)
        guard r0 < r1 else { return }
        withUnsafePointer(to: geometry) { gp in
          _ = netc_conv_direct_rows(
            gp, xs.base, pw, ws.base, n, ys.base, bias?.base, residual?.base, activation, r0, r1)
        }
      }
    }
    return true
  }
}
