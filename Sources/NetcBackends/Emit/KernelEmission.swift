import NetcIR
import NetcPasses

extension Emission {
  /// Writes the kernel of `step` as a static function; returns the extra call arguments
  /// (pointers into the weights) after the input and output pointers.
  mutating func emitKernel(_ step: EmitPlan.Step, name: String, macs: inout Int) -> [String] {
    let node = step.node
    var params = step.inputs.count == 1 ? ["_ x: UnsafePointer<Float>"] : step.inputs.indices.map { "_ x\($0): UnsafePointer<Float>" }
    params.append("_ y: UnsafeMutablePointer<Float>")
    var extra: [String] = []
    var body = SourceWriter()
    switch node.op {
    case .conv, .dwconv, .pwconv:
      let g = EmitPlan.geometry(node, shapes)!
      macs = g.outPositions * g.outChannels * g.taps * g.groupIn
      let (wOff, bOff) = convolution(step, g, &body)
      params += ["_ w: UnsafePointer<Float>", "_ b: UnsafePointer<Float>"]
      extra = ["w + \(wOff)", "w + \(bOff)"]
    case .fc:
      let r = shapes.nodes[node.id]
      macs = r.inChannels * r.outChannels
      let (wOff, bOff) = fullyConnected(step, &body)
      params += ["_ w: UnsafePointer<Float>", "_ b: UnsafePointer<Float>"]
      extra = ["w + \(wOff)", "w + \(bOff)"]
    case .maxpool, .avgpool:
      pool(step, EmitPlan.geometry(node, shapes)!, &body)
    case .gap, .gmp:
      globalPool(step, &body)
    case .bn:
      let (sOff, tOff) = batchNorm(step, &body)
      params += ["_ scale: UnsafePointer<Float>", "_ shift: UnsafePointer<Float>"]
      extra = ["w + \(sOff)", "w + \(tOff)"]
    case .add:
      add(step, &body)
    case .concat:
      concat(step, &body)
    case .flatten:
      let shape = shapes[node.inputs[0]]
      let c = shape.last!, positions = shape.reduce(1, *) / c
      body.line("// Channels last to channel-major, as PyTorch flattens CxHxW.")
      body.block("for p in 0..<\(positions)") { w in
        w.block("for c in 0..<\(c)") { w in w.line("y[c * \(positions) + p] = x[p * \(c) + c]") }
      }
    case .softmax:
      softmax(step, &body)
    case .relu, .relu6, .sigmoid, .tanh, .gelu, .leakyrelu, .identity, .dropout:
      elementwise(step, &body)
    case .input:
      preconditionFailure("the input is no step of EmitPlan")
    case .deconv, .linear, .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid, .droppath, .layerscale, .embed, .posembed, .typeembed,
      .clstoken, .tokens, .take, .attention, .upsample, .pad, .shuffle, .mul, .router, .moe, .slice:
      preconditionFailure("\(node.op) reached the emitter, which `SwiftEmitter.emits` refuses")
    }
    kernels.line()
    kernels.line(
      "/// \(step.nodes.map { $0.op.mnemonic }.joined(separator: " + ")): \(shapes[step.inputs.first ?? 0]) -> \(shapes[node.id]).")
    kernels.line("@inline(never)")
    kernels.block("static func \(name)(\(params.joined(separator: ", ")))") { w in
      for l in body.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
        w.line(l.isEmpty ? "" : String(l))
      }
    }
    return extra
  }

  /// BN at inference as a per-channel affine map, computed as the interpreter does.
  func bnAffine(_ node: Node) -> (scale: [Float], shift: [Float]) { batchNormAffine(node, parameters[node.id]!) }

  /// The vector activation lines for `r` (none when the step has no activation).
  func vectorActivation(_ node: Node?, _ r: String = "r") -> [String] {
    guard let node else { return [] }
    switch node.op {
    case .relu: return ["\(r) = \(r).replacing(with: 0, where: \(r) .< 0)"]
    case .relu6: return ["\(r) = \(r).replacing(with: 0, where: \(r) .< 0).replacing(with: 6, where: \(r) .> 6)"]
    case .leakyrelu: return ["\(r) = \(r).replacing(with: \(r) * \(floatLiteral(Float(node.attributes.slope))), where: \(r) .< 0)"]
    case .input, .conv, .dwconv, .pwconv, .maxpool, .avgpool, .gap, .gmp, .fc, .flatten, .bn, .sigmoid, .tanh, .softmax, .gelu,
      .identity, .dropout, .add, .concat, .deconv, .linear, .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid, .droppath, .layerscale,
      .embed, .posembed, .typeembed, .clstoken, .tokens, .take, .attention, .upsample, .pad, .shuffle, .mul, .router, .moe, .slice:
      // EmitPlan fuses only `fusableActivation` ops, and each of those has lines above.
      preconditionFailure("\(node.op) has no vector form")
    }
  }

  /// The scalar form of an activation, as an expression of `v`.
  func scalarActivation(_ op: OpKind, _ node: Node, _ v: String) -> String {
    switch op {
    case .relu: return "(\(v) > 0 ? \(v) : 0)"
    case .relu6: return "min(max(\(v), 0), 6)"
    case .leakyrelu: return "(\(v) > 0 ? \(v) : \(v) * \(floatLiteral(Float(node.attributes.slope))))"
    case .sigmoid: return "Float(1 / (1 + Self.exp(-Double(\(v)))))"
    case .tanh: return "Float(Self.tanh(Double(\(v))))"
    case .gelu: return "Float(Double(\(v)) * (1 + Self.erf(Double(\(v)) * 0.7071067811865476)) / 2)"
    case .identity, .dropout: return v
    case .input, .conv, .dwconv, .pwconv, .maxpool, .avgpool, .gap, .gmp, .fc, .flatten, .bn, .softmax, .add, .concat, .deconv, .linear,
      .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid, .droppath, .layerscale, .embed, .posembed, .typeembed, .clstoken, .tokens,
      .take, .attention, .upsample, .pad, .shuffle, .mul, .router, .moe, .slice:
      preconditionFailure("\(op) is not element-wise")
    }
  }

  /// Conv (every group count, 1-D to 3-D), with a folded BN and a fused activation.
  /// Depthwise convs vectorise channels (`DepthwiseConvEmitter`); the rest run a
  /// register-blocked direct kernel (`DirectConvEmitter`). Each border/interior region
  /// (`WindowRegion`) gets its own loops, reading the input in place: the taps a region's
  /// windows lose to the padding are not emitted.
  mutating func convolution(_ step: EmitPlan.Step, _ geometry: ConvGeometry, _ w: inout SourceWriter) -> (Int, Int) {
    var g = geometry
    let p = parameters[step.node.id]!
    let cout = g.outChannels
    var scale = [Float](repeating: 1, count: cout), shift = [Float](repeating: 0, count: cout)
    if let bn = step.foldedBN { (scale, shift) = bnAffine(bn) }
    let weights = FoldedConvWeights(
      weight: p.weight!.data, scale: scale, bias: (0..<cout).map { co in (p.bias?.data[co] ?? 0) * scale[co] + shift[co] },
      hasBias: p.bias != nil || step.foldedBN != nil)

    // A 1x1 stride-1 conv without padding reads every position once: one long row.
    if g.isPointwise {
      let n = g.inPositions
      g.input = [1, 1, n]
      g.output = [1, 1, n]
    }
    if g.groupIn == 1 && g.groupOut == 1 {
      let conv = DepthwiseConvEmitter(step: step, geometry: g, weights: weights)
      let offsets = (store(conv.packedWeights), store(conv.packedBias))
      conv.write(self, &w)
      return offsets
    }
    var blocking = ConvTile(lanes: lanes)
    if let t = chunkThreshold { blocking.chunkThreshold = t }
    let conv = DirectConvEmitter(step: step, geometry: g, blocking: blocking, weights: weights)
    let offsets = (store(conv.packedWeights), store(conv.packedBias))
    conv.write(self, &w)
    return offsets
  }
}

/// A conv's weights (PyTorch's layout, [out][in per group][tap]) with the per-channel scale
/// of a folded BN still to apply, and the bias with the BN already folded in.
struct FoldedConvWeights {
  var weight: [Float]
  var scale: [Float]
  var bias: [Float]
  /// Whether the kernel adds a bias: the conv has one, or a BN is folded in.
  var hasBias: Bool
}

/// Float literals that survive any formatting: the exact bits.
func floatLiteral(_ v: Float) -> String {
  if v == 0 { return "0" }
  if v == Float(Int(v)) && abs(v) < 1e6 { return "\(Int(v))" }
  return "Float(bitPattern: 0x\(String(v.bitPattern, radix: 16)))"
}
