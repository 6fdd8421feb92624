import NetcIR

/// The shapes of an op's parameter tensors, in PyTorch's layouts, written once for every
/// kind of number: conv `[Cout][Cin/groups][k...]`, fc `[out][in]`, BN `[C]` each. Which
/// tensors exist is the op's `definition.parameters`; an elided projection has none.
@_specialize(where N == Int)
func ruleParameterShapes<N: RuleNumber>(_ op: OpKind, bias: Bool, _ r: RuleShape<N>) -> [(ParameterKind, [N])] {
  if r.elided || r.noParameters { return [] }
  var out: [(ParameterKind, [N])] = []
  for p in op.definition.parameters where bias || !p.onlyWithBias {
    switch (op, p.kind) {
    case (.conv, .weight), (.dwconv, .weight), (.pwconv, .weight):
      let perGroup = r.inChannels.floorDivided(by: r.groups) ?? .constant(0)
      out.append((.weight, [r.outChannels, perGroup.normalized] + (r.window?.kernel ?? [])))
    case (.deconv, .weight):
      let perGroup = r.outChannels.floorDivided(by: r.groups) ?? .constant(0)
      out.append((.weight, [r.inChannels, perGroup.normalized] + (r.window?.kernel ?? [])))
    case (.fc, .weight), (.linear, .weight), (.router, .weight), (.embed, .weight), (.posembed, .weight), (.typeembed, .weight):
      // An embedding's table is `[rows][width]`: `inChannels` rows (vocabulary, positions,
      // types) of `outChannels`, as PyTorch's `nn.Embedding` keeps it.
      out.append((.weight, op == .fc || op == .linear || op == .router ? [r.outChannels, r.inChannels] : [r.inChannels, r.outChannels]))
    case (.conv, .bias), (.dwconv, .bias), (.pwconv, .bias), (.deconv, .bias), (.fc, .bias), (.linear, .bias):
      out.append((.bias, [r.outChannels]))
    case (.bn, _), (.layernorm, _), (.rmsnorm, _), (.layerscale, .gamma), (.clstoken, .weight):
      out.append((p.kind, [r.shape.last ?? .constant(0)]))
    case (.attention, let kind):
      // Queries and the output in the heads' width, keys and values in the key/value
      // heads'; PyTorch's `[out][in]` layouts.
      let q = r.heads.times(r.headDim)?.normalized ?? .constant(0), kv = r.kvHeads.times(r.headDim)?.normalized ?? .constant(0)
      let d = r.inChannels, m = r.memoryChannels
      let shape: [N]
      switch kind {
      case .wq: shape = [q, d]
      case .bq: shape = [q]
      case .wk, .wv: shape = [kv, m]
      case .bk, .bv: shape = [kv]
      case .wo: shape = [d, q]
      case .bo: shape = [d]
      case .weight, .bias, .gamma, .beta, .mean, .variance: preconditionFailure("attention has no \(kind) tensor")
      }
      out.append((kind, shape))
    case (_, let kind):
      preconditionFailure("\(op) declares a \(kind) parameter that has no shape rule")
    }
  }
  return out
}

/// The layout a parameter's expected shape follows, for messages: PyTorch's, as the
/// shape rule above writes it (`([Cout][Cin/groups][kh][kw])`, `([out][in])`), after a
/// leading `[experts]` in a mixture's expert (`parameterShapes`); `rank` counts that axis.
public func parameterLayout(_ op: OpKind, _ kind: ParameterKind, rank: Int, experts: Int = 1) -> String {
  guard experts > 1 else { return oneTensorLayout(op, kind, rank: rank) }
  let layout = oneTensorLayout(op, kind, rank: rank - 1)
  return layout.isEmpty ? layout : "([experts]" + layout.dropFirst()
}

private func oneTensorLayout(_ op: OpKind, _ kind: ParameterKind, rank: Int) -> String {
  let taps = ["[k]", "[kh][kw]", "[kd][kh][kw]"][max(0, min(2, rank - 3))]
  switch kind {
  case .bias, .gamma, .beta, .mean, .variance: return "([C])"
  case .wq, .wk, .wv, .wo: return "([out][in])"
  case .bq, .bk, .bv, .bo: return "([out])"
  case .weight:
    switch op {
    case .conv, .dwconv, .pwconv: return "([Cout][Cin/groups]\(taps))"
    case .deconv: return "([Cin][Cout/groups]\(taps))"
    case .fc, .linear, .router: return "([out][in])"
    case .embed: return "([vocab][width])"
    case .posembed: return "([positions][width])"
    case .typeembed: return "([types][width])"
    case .clstoken: return "([C])"
    // No weight: binding refuses the tensor before it asks for a layout.
    case .input, .maxpool, .avgpool, .gap, .gmp, .flatten, .bn, .layernorm, .rmsnorm, .layerscale, .relu, .relu6, .sigmoid,
      .tanh, .softmax, .gelu, .silu, .hardswish, .hardsigmoid, .identity, .leakyrelu, .dropout, .droppath, .tokens, .take,
      .attention, .upsample, .pad, .shuffle, .slice, .add, .concat, .mul, .moe:
      return ""
    }
  }
}

/// The parameters a node has, with their expected shapes (empty for nodes with none). In
/// a mixture's expert, each tensor holds every expert's, on a leading axis of experts
/// (`[E][out][in]`, as transformers' `MixtralExperts` stores them).
public func parameterShapes(_ node: Node, _ resolved: ResolvedNode) -> [(ParameterKind, [Int])] {
  let shapes = ruleParameterShapes(node.op, bias: node.attributes.bias, RuleShape(resolved))
  return resolved.experts > 1 ? shapes.map { ($0.0, [resolved.experts] + $0.1) } : shapes
}

extension RuleShape where N == Int {
  /// The rule's view of a resolved node.
  init(_ r: ResolvedNode) {
    self.init(
      shape: r.shape,
      window: r.window.map {
        RuleWindow(
          kernel: $0.kernel, stride: $0.stride, padBegin: $0.padBegin, padEnd: $0.padEnd, dilation: $0.dilation,
          rounding: $0.rounding)
      }, inChannels: r.inChannels, outChannels: r.outChannels, groups: r.groups, elided: r.elided)
    (tokens, noParameters, heads, kvHeads, headDim) = (r.tokens, r.noParameters, r.heads, r.kvHeads, r.headDim)
    (memoryLength, memoryChannels, inputSpatial) = (r.memoryLength, r.memoryChannels, r.inputSpatial)
    (experts, activeExperts, tiedWeight) = (r.experts, r.activeExperts, r.tiedWeight)
  }
}

extension ResolvedNode {
  /// A rule's integer result as the passes' resolved node.
  init(_ r: RuleShape<Int>) {
    self.init(
      shape: r.shape,
      window: r.window.map(Window.init), inChannels: r.inChannels, outChannels: r.outChannels, groups: r.groups, elided: r.elided)
    (tokens, noParameters, heads, kvHeads, headDim) = (r.tokens, r.noParameters, r.heads, r.kvHeads, r.headDim)
    (memoryLength, memoryChannels, inputSpatial) = (r.memoryLength, r.memoryChannels, r.inputSpatial)
    (experts, activeExperts, tiedWeight) = (r.experts, r.activeExperts, r.tiedWeight)
  }
}

extension Window {
  /// A rule's integer window (its padding is always known in integers).
  init(_ w: RuleWindow<Int>) {
    self.init(
      kernel: w.kernel, stride: w.stride, padBegin: w.padBegin ?? [], padEnd: w.padEnd ?? [], dilation: w.dilation,
      rounding: w.rounding)
  }
}
