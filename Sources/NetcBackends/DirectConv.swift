import CNetcKernels

extension Kernels {
  /// Input channels up to which an fp32 conv reads its windows from a zero-padded copy of
  /// the input instead of im2col tiles. With 3 channels (a network's first conv) a window
  /// row is a run of 9 or 21 floats, and copying them took a quarter of the time of
  /// ResNet-50's 7x7 stem.
  static let directConvMaxChannels = 4

  /// Output rows at least this wide, at stride 1 along W, also take the direct kernel,
  /// whatever the channels: its blocks of 14 positions of one output row are then full, and
  /// the im2col copy is saved. Narrower rows, and stride 2, were slower than im2col
  /// (measurements: docs/run.md).
  static let directConvMinWidth = 28

  /// Whether `directConvForward` takes the conv: ungrouped, 2-D, fp32, on AVX-512, no
  /// horizontal dilation, with at most `directConvMaxChannels` input channels, or output rows
  /// of at least `directConvMinWidth` at stride 1 (a window wider than 1).
  static func directConvApplies<T: TensorScalar>(_ g: ConvGeometry, _ packed: PackedConv<T>) -> Bool {
    T.self == Float.self && netc_kernel_level() >= 2 && !packed.panels.isEmpty && g.groups == 1 && g.input[0] == 1
      && g.kernel[0] == 1 && g.dilation[2] == 1 && g.outPositions > 0
      && (g.inChannels <= directConvMaxChannels
        || (g.output[2] >= directConvMinWidth && g.stride[2] == 1 && g.kernel[2] > 1))
  }

  /// `convForward` through `netc_conv_direct_rows` when `directConvApplies`: the padded copy,
  /// then the output rows, each by bands spread over the threads. Returns false, having
  /// written nothing, otherwise.
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
    let source = SharedPointer(base: UnsafeMutableRawPointer(mutating: x).assumingMemoryBound(to: Float.self))
    let ps = SharedPointer(base: padded)
    let top = g.padBegin[1], left = g.padBegin[2], columns = max(0, min(w, pw - left))
    // By bands of rows over the workers, as the conv reads it (written by the caller alone,
    // the copy undid the second thread's gain on ResNet-50's layer1).
    let fill = min(ph, 2 * max(1, threads)), fillRows = (ph + fill - 1) / fill
    parallelFor(fill, threads: threads, cost: ph * pw * c) { band in
      for r in min(ph, band * fillRows)..<min(ph, (band + 1) * fillRows) {
        let row = ps.base + r * pw * c
        if r < top || r - top >= h || columns == 0 {
          row.update(repeating: 0, count: pw * c)
          continue
        }
        row.update(repeating: 0, count: left * c)
        (row + left * c).update(from: source.base + (r - top) * w * c, count: columns * c)
        (row + (left + columns) * c).update(repeating: 0, count: (pw - left - columns) * c)
      }
    }
    func float(_ p: UnsafePointer<T>?) -> SharedPointer<Float>? {
      p.map { SharedPointer(base: UnsafeMutableRawPointer(mutating: $0).assumingMemoryBound(to: Float.self)) }
    }
    let bias = float(pass.bias), residual = float(pass.residual)
    let ys = SharedPointer(base: UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self))
    let geometry = g.window2D, activation = pass.activation.kernelCode
    // Two bands of output rows per worker, handed out as they finish: each band reads its
    // rows' windows and every panel once more, so four a worker were slower.
    let workers = max(1, threads), bands = min(oh, 2 * workers), per = (oh + bands - 1) / bands
    packed.panels.withUnsafeBufferPointer { pb in
      let ws = SharedPointer(base: UnsafeMutablePointer(mutating: pb.baseAddress!))
      parallelFor(bands, threads: threads, cost: g.outPositions &* n &* (g.taps &* c)) { band in
        let r0 = min(oh, band * per), r1 = min(oh, r0 + per)
        guard r0 < r1 else { return }
        withUnsafePointer(to: geometry) { gp in
          _ = netc_conv_direct_rows(
            gp, ps.base, pw, ws.base, n, ys.base, bias?.base, residual?.base, activation, r0, r1)
        }
      }
    }
    return true
  }
}
