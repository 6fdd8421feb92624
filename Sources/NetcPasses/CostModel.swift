import NetcDiagnostics
import NetcIR

/// The figures of one layer, per the counting conventions of the spec language.
public struct Cost: Hashable, Sendable {
  /// Learnable parameters (weights, biases, BN gamma and beta).
  public var params = 0
  /// Non-learnable state (BN running mean and variance).
  public var buffers = 0
  /// Multiply-accumulates of conv and fc layers.
  public var macs = 0
  /// Elements of the layer's output.
  public var activations = 0
  /// What one token (one example) runs through: the routed experts of a mixture; else the
  /// same as `params` and `macs`.
  public var activeParams = 0, activeMacs = 0
  /// Elements of attention's key/value cache.
  public var kvCache = 0

  /// A zero cost.
  public init() {}

  /// Creates a cost.
  public init(params: Int, buffers: Int, macs: Int, activations: Int, activeParams: Int? = nil, activeMacs: Int? = nil) {
    self.params = params
    self.buffers = buffers
    self.macs = macs
    self.activations = activations
    self.activeParams = activeParams ?? params
    self.activeMacs = activeMacs ?? macs
  }

  /// The sum of two costs, or nil on overflow.
  public func adding(_ other: Cost) -> Cost? {
    let (p, o1) = params.addingReportingOverflow(other.params)
    let (b, o2) = buffers.addingReportingOverflow(other.buffers)
    let (m, o3) = macs.addingReportingOverflow(other.macs)
    let (a, o4) = activations.addingReportingOverflow(other.activations)
    let (ap, o5) = activeParams.addingReportingOverflow(other.activeParams)
    let (am, o6) = activeMacs.addingReportingOverflow(other.activeMacs)
    let (kv, o7) = kvCache.addingReportingOverflow(other.kvCache)
    guard !(o1 || o2 || o3 || o4 || o5 || o6 || o7) else { return nil }
    var sum = Cost(params: p, buffers: b, macs: m, activations: a, activeParams: ap, activeMacs: am)
    sum.kvCache = kv
    return sum
  }
}

/// The costs of every node and their total.
public struct Costs: Sendable {
  /// Per node, in graph order (the input node costs nothing).
  public var nodes: [Cost]
  /// The sum over all nodes.
  public var total: Cost
}

/// Counts parameters, buffers, MACs and activations of every node:
/// conv `prod(kernel) * (Cin/groups) * Cout` weights (+ Cout bias) and that times the
/// output's spatial extents in MACs; fc `in * out` (+ out); BN 2C params and 2C buffers.
/// MACs and activations scale with `batch`; parameters do not.
public func countCosts(_ graph: Graph, _ shapes: Shapes, batch: Int = 1) throws(DiagnosticError) -> Costs {
  var costs: [Cost] = []
  costs.reserveCapacity(graph.nodes.count)
  var total = Cost()
  for node in graph.nodes {
    let cost = try nodeCost(node, shapes.nodes[node.id], batch: batch)
    guard let sum = total.adding(cost) else {
      throw DiagnosticError([.error(.overflow, "the network's totals overflow 64-bit integers", at: node.range)])
    }
    total = sum
    costs.append(cost)
  }
  return Costs(nodes: costs, total: total)
}

/// The figures of one node, given its resolved shape and window (`costRule`, the rule the
/// symbolic analysis shares); `countCosts` and the solver, which needs them per candidate
/// to check `budget:`, call it.
func nodeCost(_ node: Node, _ r: ResolvedNode, batch: Int) throws(DiagnosticError) -> Cost {
  let checked = Checked(range: node.range)
  switch costRule(node.op, bias: node.attributes.bias, cached: node.cachesKeysAndValues, RuleShape(r)) {
  case .failure(let overflow):
    throw DiagnosticError([.error(.overflow, "\(overflow.operation) overflows 64-bit integers", at: node.range)])
  case .success(let c):
    var cost = Cost(
      params: c.params, buffers: c.buffers, macs: try checked.mul(c.macs, batch), activations: try checked.mul(c.activations, batch),
      activeParams: c.activeParams, activeMacs: try checked.mul(c.activeMacs, batch))
    cost.kvCache = try checked.mul(c.kvCache, batch)
    return cost
  }
}

extension Node {
  /// Whether a decoder caches this attention's keys and values: a causal self-attention or
  /// a cross-attention (`costRule`'s `cached`).
  var cachesKeysAndValues: Bool { op == .attention && (attributes.causal || inputs.count > 1) }
}
