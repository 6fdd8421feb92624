import CNetcKernels

/// A conv's weights rearranged for the GEMM: per group, a `[taps * Cin/g][Cout/g]` matrix
/// whose rows follow the im2col row order (tap-major, then channel), so a channels-last
/// input tile times it gives the output tile directly.
struct PackedConv<T: TensorScalar>: Sendable {
  /// `groups` matrices of `taps * groupIn` rows and `groupOut` columns, back to back.
  var matrices: [T]
  /// Depthwise weights as `[taps][Cout]` when the conv is depthwise, else empty.
  var depthwise: [T]
  /// The ungrouped fp32 matrix again in `CNetcKernels`' 32-column panels, for its
  /// AVX-512/AVX2 GEMM (packed once, where OpenBLAS repacks the weights on every call);
  /// empty for fp64, grouped convs, or a CPU without those kernels. Packed on first use
  /// for the weights as given, at once for `scaled` ones.
  var panels: [Float] { lazyPanels?.value ?? packedPanels }
  private var packedPanels: [Float] = []
  private var lazyPanels: LazyPanels?

  /// Packs PyTorch's `[Cout][Cin/g][taps]` layout.
  init(weight: [T], geometry g: ConvGeometry) {
    let taps = g.taps, gi = g.groupIn, go = g.groupOut
    // Writes in order, reads strided: for one input channel the `go` source rows (taps
    // floats each) stay in cache across the taps. Writing strided instead (a megabyte
    // apart per tap for a 512-channel 3x3 conv) and checked indexing made this loop a
    // fifth of a one-shot `netc run` of ResNet-50.
    let m = [T](unsafeUninitializedCapacity: weight.count) { mb, count in
      weight.withUnsafeBufferPointer { wb in
        var dst = mb.baseAddress!
        let rowStride = gi &* taps
        for group in 0..<g.groups {
          for t in 0..<taps {
            for ci in 0..<gi {
              var src = wb.baseAddress! + ((group &* go &* gi &+ ci) &* taps &+ t)
              for _ in 0..<go {
                dst.initialize(to: src.pointee)
                dst += 1
                src += rowStride
              }
            }
          }
        }
      }
      count = weight.count
    }
    matrices = m
    if gi == 1 && g.groups == g.inChannels {
      var d = [T](repeating: 0, count: weight.count)
      for co in 0..<g.outChannels {
        for t in 0..<taps { d[t * g.outChannels + co] = weight[co * taps + t] }
      }
      depthwise = d
    } else {
      depthwise = []
    }
    let unscaled = m
    lazyPanels = LazyPanels { Self.panels(unscaled, geometry: g) }
  }

  /// `matrices` in panels when the fast kernels apply (see `panels`).
  static func panels(_ matrices: [T], geometry g: ConvGeometry) -> [Float] {
    guard T.self == Float.self, g.groups == 1, netc_kernel_level() > 0 else { return [] }
    let k = g.taps * g.groupIn, n = g.outChannels
    return matrices.withUnsafeBufferPointer { mb in
      mb.withMemoryRebound(to: Float.self) { fb in
        [Float](unsafeUninitializedCapacity: netc_packed_size(k, n)) { pb, count in
          netc_pack_b(fb.baseAddress!, n, k, n, pb.baseAddress!)
          count = netc_packed_size(k, n)
        }
      }
    }
  }

  /// The same conv with output channel `co`'s weights multiplied by `scale[co]` (an
  /// inference BN folded in), packed now; without `matrices` when it has panels, as the
  /// fused pass reads nothing else.
  func scaled(by scale: [T], geometry g: ConvGeometry) -> PackedConv<T> {
    var copy = self
    let k = g.taps * g.groupIn, go = g.groupOut
    for group in 0..<g.groups {
      for row in 0..<k {
        let base = (group * k + row) * go
        for co in 0..<go { copy.matrices[base + co] *= scale[group * go + co] }
      }
    }
    let c = g.outChannels
    for i in 0..<copy.depthwise.count { copy.depthwise[i] *= scale[i % c] }
    copy.lazyPanels = nil
    copy.packedPanels = Self.panels(copy.matrices, geometry: g)
    if !copy.packedPanels.isEmpty { copy.matrices = [] }
    return copy
  }
}
