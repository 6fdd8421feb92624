import NetcIR

/// The shapes of an op's parameter tensors, in PyTorch's layouts, written once for every
/// kind of number: conv `[Cout][Cin/groups][k...]`, fc `[out][in]`, BN `[C]` each. Which
/// tensors exist is the op's `definition.parameters`; an elided projection has none.
func ruleParameterShapes<N: RuleNumber>(_ op: OpKind, bias: Bool, _ r: RuleShape<N>) -> [(ParameterKind, [N])] {
  if r.elided { return [] }
  var out: [(ParameterKind, [N])] = []
  for p in op.definition.parameters where bias || !p.onlyWithBias {
    switch (op, p.kind) {
    case (.conv, .weight), (.dwconv, .weight), (.pwconv, .weight):
      let perGroup = r.inChannels.floorDivided(by: r.groups) ?? .constant(0)
      out.append((.weight, [r.outChannels, perGroup.normalized] + (r.window?.kernel ?? [])))
    case (.fc, .weight):
      out.append((.weight, [r.outChannels, r.inChannels]))
    case (.conv, .bias), (.dwconv, .bias), (.pwconv, .bias), (.fc, .bias):
      out.append((.bias, [r.outChannels]))
    case (.bn, _):
      out.append((p.kind, [r.shape.last ?? .constant(0)]))
    case (_, let kind):
      preconditionFailure("\(op) declares a \(kind) parameter that has no shape rule")
    }
  }
  return out
}

/// The parameters a node has, with their expected shapes (empty for nodes with none).
public func parameterShapes(_ node: Node, _ resolved: ResolvedNode) -> [(ParameterKind, [Int])] {
  ruleParameterShapes(node.op, bias: node.attributes.bias, RuleShape(resolved))
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
  }
}

extension ResolvedNode {
  /// A rule's integer result as the passes' resolved node.
  init(_ r: RuleShape<Int>) {
    self.init(
      shape: r.shape,
      window: r.window.map(Window.init), inChannels: r.inChannels, outChannels: r.outChannels, groups: r.groups, elided: r.elided)
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
