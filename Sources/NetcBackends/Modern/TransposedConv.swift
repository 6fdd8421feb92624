import NetcPasses

/// `DECONV` (PyTorch's `ConvTranspose`): the transpose of the conv that maps the deconv's
/// output shape back to its input shape with the same kernel, stride, padding, dilation
/// and groups. Its weight `[Cin][Cout/groups][k...]` is that conv's `[Cout][Cin/groups][k...]`,
/// so the conv kernels serve as they are: the forward pass is the conv's input gradient,
/// the input gradient is the conv's forward pass, the weight gradient the conv's with the
/// roles of input and output swapped. (`outpad` extends the output where no window of the
/// conv reaches: those positions get the bias only, as in PyTorch.)
enum TransposedConv {
  /// The geometry of the conv this deconv transposes.
  static func geometry(_ r: ResolvedNode, inShape: [Int]) -> ConvGeometry {
    ConvGeometry(
      inShape: r.shape, outShape: inShape, window: r.window!, inChannels: r.outChannels, outChannels: r.inChannels,
      groups: r.groups)
  }

  static func forward<T: TensorScalar>(_ x: [T], _ g: ConvGeometry, _ packed: PackedConv<T>, bias: [T]?) -> [T] {
    // The conv's backward also forms a weight gradient here (against zeros); the cost is
    // the same again, traded for one kernel fewer.
    let zeros = [T](repeating: 0, count: g.inPositions * g.inChannels)
    var y = Kernels.convBackward(zeros, x, g, packed, hasBias: false).dx
    if let bias {
      let c = bias.count
      for i in 0..<y.count { y[i] += bias[i % c] }
    }
    return y
  }

  static func backward<T: TensorScalar>(
    _ x: [T], _ dy: [T], _ g: ConvGeometry, _ packed: PackedConv<T>, hasBias: Bool, threads: Int
  ) -> (dx: [T], dw: [T], db: [T]?) {
    let dx = Kernels.convForward(dy, g, packed, bias: nil, threads: threads)
    let dw = Kernels.convBackward(dy, x, g, packed, hasBias: false).dw
    var db: [T]?
    if hasBias {
      let c = g.inChannels
      var sums = [T](repeating: 0, count: c)
      for i in 0..<dy.count { sums[i % c] += dy[i] }
      db = sums
    }
    return (dx, dw, db)
  }
}
