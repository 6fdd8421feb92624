import NetcIR

/// The working of one layer, in the notation of a course: each output extent of a window
/// op with its formula, and params, buffers, MACs and activations as products of named
/// factors. The parameter terms come from `ruleParameterShapes`, the tensors `costRule`
/// counts, so a working's value is the figure `analyze` prints (a test holds them equal on
/// every reference spec).
public func layerWorking(_ graph: Graph, _ shapes: Shapes, node id: Int) -> LayerWorking {
  let r = shapes.nodes[id], input = graph.nodes[id].inputs.first.map { shapes.nodes[$0].shape }
  return ruleWorking(graph, node: id, RuleShape(r), input: input) { axis in
    guard let w = r.window, let input else { return "" }
    return w.arithmetic(input[axis], axis: axis)
  }
}

/// The working of one layer with vars left free: the same formulas, each value an
/// expression in the vars (`k*k*10*96 + 96 = 960·k² + 96`); nil where the analysis keeps
/// no exact expression for the layer (ceil rounding, `same` padding of a var extent).
public func symbolicLayerWorking(_ analysis: SymbolicAnalysis, node id: Int) -> SymbolicLayerWorking? {
  guard let rule = analysis.rules[id] else { return nil }
  let input = analysis.graph.nodes[id].inputs.first.flatMap { analysis.nodes[$0].shape }
  return ruleWorking(analysis.graph, node: id, rule, input: input) { a in
    guard let w = rule.window, let input else { return "" }
    let pads: String
    if let b = w.padBegin?[a], let e = w.padEnd?[a] {
      pads = b == e ? "2*\(b.factorText)" : "\(b.factorText) + \(e.factorText)"
    } else {
      pads = "p_begin + p_end"
    }
    let kernel =
      w.dilation[a].known == 1 ? w.kernel[a].factorText : "\(w.dilation[a].factorText)*(\(w.kernel[a].factorText) - 1) - 1"
    return
      "\(w.rounding == .floor ? "floor" : "ceil")((\(input[a].factorText) + \(pads) - \(kernel)) / \(w.stride[a].factorText)) + 1 = \(rule.shape[a].pretty)"
  }
}

/// `layerWorking` in either kind of number; `extentArithmetic` writes a window op's output
/// extent along an axis in the layer's numbers.
func ruleWorking<N: RuleNumber>(
  _ graph: Graph, node id: Int, _ r: RuleShape<N>, input: [N]?, extentArithmetic: (Int) -> String
) -> LayerWorkingOf<N> {
  let node = graph.nodes[id]
  var out = LayerWorkingOf<N>(node: node.id, extents: [], figures: [], remark: nil)
  if node.op == .input { return out }
  if r.elided || node.attributes.elidedShortcut {
    out.remark = "the shapes already match: `shortcut: auto` passes its input through, no params, no MACs"
    return out
  }
  func n(_ v: Int) -> N { .constant(v) }
  // The rule computed these values already, so the operations cannot overflow here.
  func sub(_ a: N, _ b: N) -> N { a.minus(b)?.normalized ?? n(0) }
  func add(_ a: N, _ b: N) -> N { a.plus(b)?.normalized ?? n(0) }
  func mul(_ a: N, _ b: N) -> N { a.times(b)?.normalized ?? n(0) }
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
  if let w = r.window, input != nil, node.op.isWindowed {
    out.extents = (0..<w.kernel.count).map { a in
      let symmetric = w.padBegin?[a] == w.padEnd?[a]
      let formula =
        w.dilation[a].known == 1
        ? "\(short(a))in + \(symmetric ? "2*p" : "p_begin + p_end") - k"
        : "\(short(a))in + \(symmetric ? "2*p" : "p_begin + p_end") - d*(k - 1) - 1"
      return ExtentWorkingOf(
        axis: names[a], arithmetic: extentArithmetic(a),
        formula: "\(w.rounding == .floor ? "floor" : "ceil")((\(formula)) / s) + 1", value: r.shape[a])
    }
  }
  if node.op == .deconv, let w = r.window, let padBegin = w.padBegin, let padEnd = w.padEnd {
    out.extents = (0..<w.kernel.count).map { a in
      let x = r.inputSpatial[a]
      let pads = padBegin[a] == padEnd[a] ? "2*\(padBegin[a].factorText)" : "\(padBegin[a].factorText) - \(padEnd[a].factorText)"
      let span = add(
        sub(sub(mul(sub(x, n(1)), w.stride[a]), padBegin[a]), padEnd[a]), add(mul(w.dilation[a], sub(w.kernel[a], n(1))), n(1)))
      let outpad = sub(r.shape[a], span)
      return ExtentWorkingOf(
        axis: names[a],
        arithmetic:
          "(\(x.factorText) - 1)*\(w.stride[a].factorText) - \(pads) + \(w.dilation[a].factorText)*(\(w.kernel[a].factorText) - 1) + \(outpad.factorText) + 1 = \(r.shape[a])",
        formula: "(\(short(a))in - 1)*s - 2*p + d*(k - 1) + output_padding + 1", value: r.shape[a])
    }
  }

  let kernel = r.window?.kernel ?? []
  let kernelSymbols = kernel.count == 1 ? ["k"] : kernel.indices.map { "k\(short($0).lowercased())" }
  func kernelFactors(segment: String?) -> [WorkingFactorOf<N>] {
    kernel.enumerated().map {
      WorkingFactorOf($0.element, kernelSymbols[$0.offset], .kernel(axis: $0.offset), "kernel \(names[$0.offset])", segment: segment)
    }
  }
  func extentFactors(_ extents: [N], segment: String?, input: Bool = false) -> [WorkingFactorOf<N>] {
    extents.enumerated().map {
      WorkingFactorOf(
        $0.element, "\(short($0.offset))\(input ? "in" : "out")", input ? .inExtent(axis: $0.offset) : .outExtent(axis: $0.offset),
        "\(input ? "input" : "output") \(names[$0.offset])", segment: segment)
    }
  }
  let grouped = r.groups.known.map { $0 > 1 } ?? true
  let depthwise = grouped && r.groups == r.inChannels
  func perGroup(_ channels: N, _ symbol: String, _ meaning: String, role: FactorRole, segment: String?) -> [WorkingFactorOf<N>] {
    if depthwise && role == .inChannels { return [] }
    let each = channels.floorDivided(by: r.groups)?.normalized ?? n(0)
    guard grouped else { return [WorkingFactorOf(each, symbol, role, meaning, segment: segment)] }
    return [
      WorkingFactorOf(each, "\(symbol)/g", role, "\(meaning) per group", text: "\(channels)/\(r.groups)", segment: segment)
    ]
  }
  let cout = WorkingFactorOf(r.outChannels, "Cout", .outChannels, "filters")
  let experts = r.experts.known == 1 ? [] : [WorkingFactorOf(r.experts, "E", .other, "experts")]

  var params: [WorkingTermOf<N>] = [], buffers: [WorkingTermOf<N>] = []
  let c = WorkingFactorOf(r.shape.last ?? n(0), "C", .outChannels, "channels")
  for (kind, dims) in ruleParameterShapes(node.op, bias: node.attributes.bias, r) {
    if kind == .weight && r.tiedWeight { continue }
    var term: WorkingTermOf<N>
    switch (node.op, kind) {
    case (.conv, .weight), (.dwconv, .weight), (.pwconv, .weight):
      term = WorkingTermOf(
        kernelFactors(segment: nil) + perGroup(r.inChannels, "Cin", "input channels", role: .inChannels, segment: nil) + [cout],
        "weights")
    case (.deconv, .weight):
      term = WorkingTermOf(
        kernelFactors(segment: nil) + perGroup(r.outChannels, "Cout", "filters", role: .outChannels, segment: nil)
          + [WorkingFactorOf(r.inChannels, "Cin", .inChannels, "input channels")], "weights")
    case (.fc, .weight), (.linear, .weight), (.router, .weight):
      term = WorkingTermOf(
        [WorkingFactorOf(r.inChannels, "in", .inChannels, "input features"), WorkingFactorOf(r.outChannels, "out", .outChannels, "units")],
        "weights")
    case (.embed, .weight), (.posembed, .weight), (.typeembed, .weight):
      let rows = node.op == .embed ? "vocabulary" : node.op == .posembed ? "positions" : "token types"
      term = WorkingTermOf(
        [WorkingFactorOf(dims[0], node.op == .embed ? "V" : "rows", .other, rows), WorkingFactorOf(dims[1], "C", .outChannels, "width")],
        "table")
    case (_, .bias), (_, .bo):
      let symbol = node.op == .attention ? "C" : node.op == .fc || node.op == .linear ? "out" : "Cout"
      term = WorkingTermOf([WorkingFactorOf(dims[0], symbol, .outChannels, "biases")], kind == .bo ? "output bias" : "bias")
    case (.attention, .wq), (.attention, .wo):
      term = WorkingTermOf(
        [
          WorkingFactorOf(r.inChannels, "C", .inChannels, "width"), WorkingFactorOf(r.heads, "h", .other, "heads"),
          WorkingFactorOf(r.headDim, "d", .other, "head width"),
        ], kind == .wq ? "query projection" : "output projection")
    case (.attention, .wk), (.attention, .wv):
      term = WorkingTermOf(
        [
          WorkingFactorOf(r.memoryChannels, "C", .inChannels, "width"), WorkingFactorOf(r.kvHeads, "kv", .other, "key/value heads"),
          WorkingFactorOf(r.headDim, "d", .other, "head width"),
        ], kind == .wk ? "key projection" : "value projection")
    case (.attention, .bq):
      term = WorkingTermOf(
        [WorkingFactorOf(r.heads, "h", .other, "heads"), WorkingFactorOf(r.headDim, "d", .other, "head width")], "query bias")
    case (.attention, .bk), (.attention, .bv):
      term = WorkingTermOf(
        [WorkingFactorOf(r.kvHeads, "kv", .other, "key/value heads"), WorkingFactorOf(r.headDim, "d", .other, "head width")],
        kind == .bk ? "key bias" : "value bias")
    case (_, .gamma), (_, .beta), (_, .mean), (_, .variance), (_, _):
      term = WorkingTermOf(dims.count == 1 ? [c] : dims.map { WorkingFactorOf($0, "n", .other, "elements") }, kind.rawValue)
    }
    term.factors += experts
    if kind.isLearnable { params.append(term) } else { buffers.append(term) }
  }
  // BN and the norms: C + C reads better as 2*C.
  func folded(_ terms: [WorkingTermOf<N>], _ meaning: String) -> [WorkingTermOf<N>] {
    guard terms.count == 2, terms[0].factors == [c] + experts, terms[1].factors == terms[0].factors else { return terms }
    return [WorkingTermOf([WorkingFactorOf(n(2), "2", .other, "tensors")] + terms[0].factors, meaning)]
  }
  params = folded(params, "gamma and beta")
  buffers = folded(buffers, "running mean and variance")

  var macs: [WorkingTermOf<N>] = []
  switch node.op {
  case .conv, .dwconv, .pwconv:
    let filters =
      depthwise
      ? WorkingFactorOf(r.outChannels, "C", .outChannels, "channels", segment: "filters")
      : WorkingFactorOf(r.outChannels, "Cout", .outChannels, "filters", segment: "filters")
    macs = [
      WorkingTermOf(
        kernelFactors(segment: "per output")
          + perGroup(r.inChannels, "Cin", "input channels", role: .inChannels, segment: "per output")
          + extentFactors(spatial, segment: "positions") + [filters] + experts, "multiply-accumulates")
    ]
  case .deconv:
    macs = [
      WorkingTermOf(
        kernelFactors(segment: "per output") + perGroup(r.outChannels, "Cout", "filters", role: .outChannels, segment: "per output")
          + extentFactors(r.inputSpatial, segment: "input positions", input: true)
          + [WorkingFactorOf(r.inChannels, "Cin", .inChannels, "input channels", segment: "input channels")] + experts,
        "multiply-accumulates")
    ]
  case .fc:
    macs = [
      WorkingTermOf(
        [WorkingFactorOf(r.inChannels, "in", .inChannels, "input features"), WorkingFactorOf(r.outChannels, "out", .outChannels, "units")]
          + experts, "multiply-accumulates")
    ]
  case .linear, .router:
    macs = [
      WorkingTermOf(
        [WorkingFactorOf(r.inChannels, "in", .inChannels, "input features", segment: "per output")]
          + spatial.map { WorkingFactorOf($0, "T", .outExtent(axis: 0), "positions", segment: "positions") }
          + [WorkingFactorOf(r.outChannels, "out", .outChannels, "units", segment: "units")] + experts, "multiply-accumulates")
    ]
  case .attention:
    let t = WorkingFactorOf(r.shape[0], "T", .outExtent(axis: 0), "positions"),
      s = WorkingFactorOf(r.memoryLength, "S", .other, "key positions")
    let width = WorkingFactorOf(r.inChannels, "C", .inChannels, "width"),
      memory = WorkingFactorOf(r.memoryChannels, "C", .inChannels, "width")
    let h = WorkingFactorOf(r.heads, "h", .other, "heads"), kv = WorkingFactorOf(r.kvHeads, "kv", .other, "key/value heads")
    let d = WorkingFactorOf(r.headDim, "d", .other, "head width")
    macs = [
      WorkingTermOf([t, width, h, d] + experts, "query projection"), WorkingTermOf([s, memory, kv, d] + experts, "key projection"),
      WorkingTermOf([s, memory, kv, d] + experts, "value projection"),
      WorkingTermOf([WorkingFactorOf(n(2), "2", .other, "products (QKᵀ and AV)"), h, t, s, d] + experts, "QKᵀ and attention x V"),
      WorkingTermOf([t, h, d, width] + experts, "output projection"),
    ]
  case .input, .maxpool, .avgpool, .gap, .gmp, .flatten, .bn, .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .identity, .leakyrelu,
    .dropout, .add, .concat, .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid, .droppath, .layerscale, .embed, .posembed,
    .typeembed, .clstoken, .tokens, .take, .upsample, .pad, .shuffle, .mul, .moe, .slice:
    break
  }

  if !params.isEmpty {
    out.figures.append(WorkingOf(.params, params, remark: depthwise ? "depthwise: each filter reads one input channel" : nil))
  }
  if !buffers.isEmpty { out.figures.append(WorkingOf(.buffers, buffers)) }
  if !macs.isEmpty { out.figures.append(WorkingOf(.macs, macs)) }
  let activeExperts = r.experts.known == 1 ? [] : [WorkingFactorOf(r.activeExperts, "k", .other, "routed experts")]
  out.figures.append(
    WorkingOf(
      .activations,
      [
        WorkingTermOf(
          r.shape.enumerated().map { i, v in
            i == r.shape.count - 1 && r.shape.count > 1
              ? WorkingFactorOf(v, "C", .outChannels, "channels")
              : WorkingFactorOf(v, "n", .outExtent(axis: i), i < names.count ? "output \(names[i])" : "outputs")
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
