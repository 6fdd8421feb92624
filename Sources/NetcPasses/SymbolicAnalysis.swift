import NetcDiagnostics
import NetcIR

/// One node's shape and figures as expressions in the free vars; nil where no exact
/// expression exists (ceil rounding or an auto shortcut whose shapes depend on vars).
public struct SymbolicNode: Sendable {
  /// The output shape.
  public var shape: [SymExpr]?
  /// Parameters, buffers, MACs and activations.
  public var params: SymExpr?, buffers: SymExpr?, macs: SymExpr?, activations: SymExpr?
  /// What one token runs through (a mixture's routed experts; else the same as the totals).
  public var activeParams: SymExpr?, activeMacs: SymExpr?
  /// Elements of attention's key/value cache.
  public var kvCache: SymExpr?
}

/// `analyze` for a spec with free vars: each node's shape and figures in terms of them.
public struct SymbolicAnalysis: Sendable {
  /// The graph analysed.
  public var graph: Graph
  /// The vars left free, in declaration order.
  public var free: [String]
  /// Per node, in graph order.
  public var nodes: [SymbolicNode]
  /// The sums over all nodes (nil where a node's figure is unknown).
  public var totals: SymbolicNode
  /// Per node, what the shape rule settled (nil where `nodes` has no shape): the working
  /// of `--explain` is written from it.
  var rules: [RuleShape<SymExpr>?]
}

/// Infers shapes and costs symbolically, with `bindings` substituted, every expression
/// simplified as far as is exact. Floor divisions stay as they are: `⌊(205 - k)/3⌋ + 1`.
public func analyzeSymbolic(_ graph: Graph, bindings: [String: Int], free: [String]) throws(DiagnosticError) -> SymbolicAnalysis {
  try verify(graph)
  try checkBindings(graph, bindings)
  let subst = bindings.mapValues { SymExpr.const($0) }
  func e(_ v: SymValue) -> SymExpr { v.expr.substituting(subst).simplified }

  var nodes: [SymbolicNode] = []
  var rules: [RuleShape<SymExpr>?] = []
  for node in graph.nodes {
    let a = node.attributes
    var r = RuleAttributes<SymExpr>()
    r.kernel = a.kernel.map(e)
    r.stride = a.stride.map(e)
    r.dilation = a.dilation.map(e)
    switch a.padding {
    case .same: r.same = true
    case .explicit(let b, let end):
      r.padBegin = b.map(e)
      r.padEnd = end.map(e)
    }
    r.groups = a.groups.map(e)
    r.count = a.count.map(e)
    r.rounding = a.rounding
    r.isProjection = a.shortcutTarget != nil
    r.integers = a.integers.mapValues { $0.map(e) }
    r.sinusoidal = a.sinusoidal
    r.index = a.index
    r.tied = a.tiedTo != nil
    var out = SymbolicNode()
    defer {
      nodes.append(out)
    }
    let inputs = node.inputs.map { nodes[$0].shape }
    guard !inputs.contains(where: { $0 == nil }) else {
      rules.append(nil)
      continue
    }
    var target: [SymExpr]?
    if let t = a.shortcutTarget {
      guard let shape = nodes[t].shape else {
        rules.append(nil)
        continue
      }
      target = shape
    }
    let result = shapeRule(
      node.op, r, inputs: inputs.map { $0! }, inputShape: node.op == .input ? graph.inputShape(of: node.id).map(e) : [], target: target,
      inputElided: node.inputs.first.map { rules[$0]?.elided ?? false } ?? false,
      inputTokens: node.inputs.first.map { rules[$0]?.tokens ?? false } ?? false, tokenInput: graph.isTokenInput(node.id))
    guard case .success(let shape) = result,
      case .success(let cost) = costRule(node.op, bias: a.bias, cached: node.cachesKeysAndValues, shape)
    else {
      rules.append(nil)
      continue
    }
    rules.append(shape)
    out.shape = shape.shape
    out.params = cost.params
    out.buffers = cost.buffers
    out.macs = cost.macs
    out.activations = cost.activations
    out.activeParams = cost.activeParams
    out.activeMacs = cost.activeMacs
    out.kvCache = cost.kvCache
  }
  func total(_ get: (SymbolicNode) -> SymExpr?) -> SymExpr? {
    var sum: SymExpr = .const(0)
    for n in nodes {
      guard let v = get(n) else { return nil }
      sum = .add(sum, v)
    }
    return sum.simplified
  }
  let totals = SymbolicNode(
    shape: nodes.last?.shape, params: total(\.params), buffers: total(\.buffers), macs: total(\.macs), activations: total(\.activations),
    activeParams: total(\.activeParams), activeMacs: total(\.activeMacs), kvCache: total(\.kvCache))
  return SymbolicAnalysis(graph: graph, free: free, nodes: nodes, totals: totals, rules: rules)
}
