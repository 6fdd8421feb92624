import NetcIR

/// The working of one layer, in the notation of a course: each output extent of a window
/// op with its formula, and params, buffers, MACs and activations as products of named
/// factors. The parameter terms come from `ruleParameterShapes`, the tensors `costRule`
/// counts, so a working's value is the figure `analyze` prints (a test holds them equal on
/// every reference spec).
public func layerWorking(_ graph: Graph, _ shapes: Shapes, node id: Int) -> LayerWorking {
  let node = graph.nodes[id], r = shapes.nodes[id]
  let input = node.inputs.first.map { shapes.nodes[$0].shape }
  var out = LayerWorking(node: node.id, extents: [], figures: [], remark: nil)
  if node.op == .input { return out }
  if r.elided {
    out.remark = "the shapes already match: `shortcut: auto` passes its input through, no params, no MACs"
    return out
  }
  let spatial = Array(r.shape.dropLast())
  let names = axisNames(rank: r.shape.count)
  func short(_ axis: Int) -> String {
    switch names[axis] {
    case "height": "H"
    case "width": "W"
    case "depth": "D"
    case "length": "L"
    default: "X\(axis + 1)"
    }
  }
  if let w = r.window, let input, node.op.isWindowed {
    out.extents = (0..<w.kernel.count).map { a in
      let formula =
        w.dilation[a] == 1
        ? "\(short(a))in + \(w.padBegin[a] == w.padEnd[a] ? "2*p" : "p_begin + p_end") - k"
        : "\(short(a))in + \(w.padBegin[a] == w.padEnd[a] ? "2*p" : "p_begin + p_end") - d*(k - 1) - 1"
      return ExtentWorking(
        axis: names[a], arithmetic: w.arithmetic(input[a], axis: a),
        formula: "\(w.rounding == .floor ? "floor" : "ceil")((\(formula)) / s) + 1", value: r.shape[a])
    }
  }
  if node.op == .deconv, let w = r.window {
    out.extents = (0..<w.kernel.count).map { a in
      let x = r.inputSpatial[a], pads = w.padBegin[a] == w.padEnd[a] ? "2*\(w.padBegin[a])" : "\(w.padBegin[a]) - \(w.padEnd[a])"
      let outpad = r.shape[a] - ((x - 1) * w.stride[a] - w.padBegin[a] - w.padEnd[a] + w.dilation[a] * (w.kernel[a] - 1) + 1)
      return ExtentWorking(
        axis: names[a],
        arithmetic: "(\(x) - 1)*\(w.stride[a]) - \(pads) + \(w.dilation[a])*(\(w.kernel[a]) - 1) + \(outpad) + 1 = \(r.shape[a])",
        formula: "(\(short(a))in - 1)*s - 2*p + d*(k - 1) + output_padding + 1", value: r.shape[a])
    }
  }

  let kernel = r.window?.kernel ?? []
  let kernelSymbols = kernel.count == 1 ? ["k"] : kernel.indices.map { "k\(short($0).lowercased())" }
  func kernelFactors(segment: String?) -> [WorkingFactor] {
    kernel.enumerated().map {
      WorkingFactor($0.element, kernelSymbols[$0.offset], .kernel(axis: $0.offset), "kernel \(names[$0.offset])", segment: segment)
    }
  }
  func extentFactors(_ extents: [Int], segment: String?, input: Bool = false) -> [WorkingFactor] {
    extents.enumerated().map {
      WorkingFactor(
        $0.element, "\(short($0.offset))\(input ? "in" : "out")", input ? .inExtent(axis: $0.offset) : .outExtent(axis: $0.offset),
        "\(input ? "input" : "output") \(names[$0.offset])", segment: segment)
    }
  }
  let depthwise = r.groups > 1 && r.groups == r.inChannels
  func perGroup(_ channels: Int, _ symbol: String, _ meaning: String, role: FactorRole, segment: String?) -> [WorkingFactor] {
    if depthwise && role == .inChannels { return [] }
    guard r.groups > 1 else { return [WorkingFactor(channels / r.groups, symbol, role, meaning, segment: segment)] }
    return [
      WorkingFactor(channels / r.groups, "\(symbol)/g", role, "\(meaning) per group", text: "\(channels)/\(r.groups)", segment: segment)
    ]
  }
  let cout = WorkingFactor(r.outChannels, "Cout", .outChannels, "filters")
  let experts = r.experts == 1 ? [] : [WorkingFactor(r.experts, "E", .other, "experts")]

  var params: [WorkingTerm] = [], buffers: [WorkingTerm] = []
  let c = WorkingFactor(r.shape.last ?? 0, "C", .outChannels, "channels")
  for (kind, dims) in ruleParameterShapes(node.op, bias: node.attributes.bias, RuleShape(r)) {
    if kind == .weight && r.tiedWeight { continue }
    var term: WorkingTerm
    switch (node.op, kind) {
    case (.conv, .weight), (.dwconv, .weight), (.pwconv, .weight):
      term = WorkingTerm(
        kernelFactors(segment: nil) + perGroup(r.inChannels, "Cin", "input channels", role: .inChannels, segment: nil) + [cout],
        "weights")
    case (.deconv, .weight):
      term = WorkingTerm(
        kernelFactors(segment: nil) + perGroup(r.outChannels, "Cout", "filters", role: .outChannels, segment: nil)
          + [WorkingFactor(r.inChannels, "Cin", .inChannels, "input channels")], "weights")
    case (.fc, .weight), (.linear, .weight), (.router, .weight):
      term = WorkingTerm(
        [WorkingFactor(r.inChannels, "in", .inChannels, "input features"), WorkingFactor(r.outChannels, "out", .outChannels, "units")],
        "weights")
    case (.embed, .weight), (.posembed, .weight), (.typeembed, .weight):
      let rows = node.op == .embed ? "vocabulary" : node.op == .posembed ? "positions" : "token types"
      term = WorkingTerm(
        [WorkingFactor(dims[0], node.op == .embed ? "V" : "rows", .other, rows), WorkingFactor(dims[1], "C", .outChannels, "width")],
        "table")
    case (_, .bias), (_, .bo):
      let symbol = node.op == .attention ? "C" : node.op == .fc || node.op == .linear ? "out" : "Cout"
      term = WorkingTerm([WorkingFactor(dims[0], symbol, .outChannels, "biases")], "bias")
    case (.attention, .wq), (.attention, .wo):
      term = WorkingTerm(
        [
          WorkingFactor(r.inChannels, "C", .inChannels, "width"), WorkingFactor(r.heads, "h", .other, "heads"),
          WorkingFactor(r.headDim, "d", .other, "head width"),
        ], kind == .wq ? "query projection" : "output projection")
    case (.attention, .wk), (.attention, .wv):
      term = WorkingTerm(
        [
          WorkingFactor(r.memoryChannels, "C", .inChannels, "width"), WorkingFactor(r.kvHeads, "kv", .other, "key/value heads"),
          WorkingFactor(r.headDim, "d", .other, "head width"),
        ], kind == .wk ? "key projection" : "value projection")
    case (.attention, .bq):
      term = WorkingTerm([WorkingFactor(r.heads, "h", .other, "heads"), WorkingFactor(r.headDim, "d", .other, "head width")], "query bias")
    case (.attention, .bk), (.attention, .bv):
      term = WorkingTerm(
        [WorkingFactor(r.kvHeads, "kv", .other, "key/value heads"), WorkingFactor(r.headDim, "d", .other, "head width")],
        kind == .bk ? "key bias" : "value bias")
    case (_, .gamma), (_, .beta), (_, .mean), (_, .variance), (_, _):
      term = WorkingTerm(dims.count == 1 ? [c] : dims.map { WorkingFactor($0, "n", .other, "elements") }, kind.rawValue)
    }
    term.factors += experts
    if kind.isLearnable { params.append(term) } else { buffers.append(term) }
  }
  // BN and the norms: C + C reads better as 2*C.
  func folded(_ terms: [WorkingTerm], _ meaning: String) -> [WorkingTerm] {
    guard terms.count == 2, terms[0].factors == [c] + experts, terms[1].factors == terms[0].factors else { return terms }
    return [WorkingTerm([WorkingFactor(2, "2", .other, "tensors")] + terms[0].factors, meaning)]
  }
  params = folded(params, "gamma and beta")
  buffers = folded(buffers, "running mean and variance")

  var macs: [WorkingTerm] = []
  switch node.op {
  case .conv, .dwconv, .pwconv:
    let filters =
      depthwise
      ? WorkingFactor(r.outChannels, "C", .outChannels, "channels", segment: "filters")
      : WorkingFactor(r.outChannels, "Cout", .outChannels, "filters", segment: "filters")
    macs = [
      WorkingTerm(
        kernelFactors(segment: "per output")
          + perGroup(r.inChannels, "Cin", "input channels", role: .inChannels, segment: "per output")
          + extentFactors(spatial, segment: "positions") + [filters] + experts, "multiply-accumulates")
    ]
  case .deconv:
    macs = [
      WorkingTerm(
        kernelFactors(segment: "per output") + perGroup(r.outChannels, "Cout", "filters", role: .outChannels, segment: "per output")
          + extentFactors(r.inputSpatial, segment: "input positions", input: true)
          + [WorkingFactor(r.inChannels, "Cin", .inChannels, "input channels", segment: "input channels")] + experts,
        "multiply-accumulates")
    ]
  case .fc:
    macs = [
      WorkingTerm(
        [WorkingFactor(r.inChannels, "in", .inChannels, "input features"), WorkingFactor(r.outChannels, "out", .outChannels, "units")]
          + experts, "multiply-accumulates")
    ]
  case .linear, .router:
    macs = [
      WorkingTerm(
        [WorkingFactor(r.inChannels, "in", .inChannels, "input features", segment: "per output")]
          + spatial.map { WorkingFactor($0, "T", .outExtent(axis: 0), "positions", segment: "positions") }
          + [WorkingFactor(r.outChannels, "out", .outChannels, "units", segment: "units")] + experts, "multiply-accumulates")
    ]
  case .attention:
    let t = WorkingFactor(r.shape[0], "T", .outExtent(axis: 0), "positions"),
      s = WorkingFactor(r.memoryLength, "S", .other, "key positions")
    let width = WorkingFactor(r.inChannels, "C", .inChannels, "width"), memory = WorkingFactor(r.memoryChannels, "C", .inChannels, "width")
    let h = WorkingFactor(r.heads, "h", .other, "heads"), kv = WorkingFactor(r.kvHeads, "kv", .other, "key/value heads")
    let d = WorkingFactor(r.headDim, "d", .other, "head width")
    macs = [
      WorkingTerm([t, width, h, d] + experts, "query projection"), WorkingTerm([s, memory, kv, d] + experts, "key projection"),
      WorkingTerm([s, memory, kv, d] + experts, "value projection"),
      WorkingTerm([WorkingFactor(2, "2", .other, "products (QKᵀ and AV)"), h, t, s, d] + experts, "QKᵀ and attention x V"),
      WorkingTerm([t, h, d, width] + experts, "output projection"),
    ]
  case .input, .maxpool, .avgpool, .gap, .gmp, .flatten, .bn, .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .identity, .leakyrelu,
    .dropout, .add, .concat, .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid, .droppath, .layerscale, .embed, .posembed,
    .typeembed, .clstoken, .tokens, .take, .upsample, .pad, .shuffle, .mul, .moe, .slice:
    break
  }

  if !params.isEmpty {
    out.figures.append(Working(.params, params, remark: depthwise ? "depthwise: each filter reads one input channel" : nil))
  }
  if !buffers.isEmpty { out.figures.append(Working(.buffers, buffers)) }
  if !macs.isEmpty { out.figures.append(Working(.macs, macs)) }
  let activeExperts = r.experts == 1 ? [] : [WorkingFactor(r.activeExperts, "k", .other, "routed experts")]
  out.figures.append(
    Working(
      .activations,
      [
        WorkingTerm(
          r.shape.enumerated().map { i, v in
            i == r.shape.count - 1 && r.shape.count > 1
              ? WorkingFactor(v, "C", .outChannels, "channels")
              : WorkingFactor(v, "n", .outExtent(axis: i), i < names.count ? "output \(names[i])" : "outputs")
          } + activeExperts, "output elements")
      ]))
  if params.isEmpty && macs.isEmpty {
    out.remark =
      r.tiedWeight
      ? "the weight is tied to `\(node.attributes.tiedTo.map { graph.nodes[$0].name } ?? "?")`: counted there"
      : node.op.isWindowed ? "pooling has no weights: no params, no MACs" : "no weights and no multiply-accumulates"
  }
  return out
}
