import NetcDiagnostics
import NetcIR

/// Checks the totals against `budget:`: one NS301 error per limit that does not hold,
/// with the actual figure and the limit.
public func checkBudget(_ graph: Graph, _ costs: Costs) -> [Diagnostic] {
  var problems: [Diagnostic] = []
  for limit in graph.budget {
    guard let actual = budgetValue(limit.metric, costs.total, precision: graph.budgetPrecision) else {
      problems.append(.error(.overflow, "the network's \(limit.metric.rawValue) overflow 64-bit integers", at: limit.range))
      continue
    }
    guard !limit.relation.holds(actual, limit.bound) else { continue }
    let has =
      limit.metric.isBytes
      ? "\(grouped(actual)) bytes of \(limit.metric.rawValue) at \(graph.budgetPrecision.rawValue)"
      : "\(grouped(actual)) \(limit.metric.rawValue)"
    let unit = limit.metric.isBytes ? " bytes" : ""
    problems.append(
      .error(
        .budgetExceeded,
        "the network has \(has), outside its budget of \(limit.relation.rawValue) \(grouped(limit.bound))\(unit)",
        at: limit.range,
        notes: [.init("\(limit.metric.rawValue) counts \(limit.metric.meaning)")]))
  }
  return problems
}

/// A budget metric of a cost (one node's, or the totals): additive over nodes, so the
/// solver sums it as it goes. Nil on overflow.
func budgetValue(_ metric: BudgetLimit.Metric, _ c: Cost, precision: StorageType) -> Int? {
  func bytes(_ n: Int) -> Int? {
    let (b, o) = n.multipliedReportingOverflow(by: precision.bytes)
    return o ? nil : b
  }
  switch metric {
  case .params: return c.params
  case .buffers: return c.buffers
  case .macs: return c.macs
  case .activations: return c.activations
  case .weights:
    let (n, o) = c.params.addingReportingOverflow(c.buffers)
    return o ? nil : bytes(n)
  case .kvCache: return bytes(c.kvCache)
  case .memory:
    guard let w = budgetValue(.weights, c, precision: precision), let kv = bytes(c.kvCache) else { return nil }
    let (m, o) = w.addingReportingOverflow(kv)
    return o ? nil : m
  }
}

extension BudgetLimit.Metric {
  /// What the metric counts, as the spec language defines it.
  var meaning: String {
    switch self {
    case .params: "learnable weights and biases (BN gamma and beta included)"
    case .buffers: "non-learnable state (BN running mean and variance)"
    case .macs: "multiply-accumulates of conv and fc layers, for one example"
    case .activations: "the elements of every layer's output, for one example"
    case .weights: "the bytes of every parameter and buffer"
    case .kvCache: "the bytes of attention's cached keys and values: 2 x layers x kv heads x head width x positions, per sequence"
    case .memory: "the bytes of the weights and the KV cache"
    }
  }
}

/// An integer with thousands separators: 11,689,512.
func grouped(_ value: Int) -> String {
  let digits = String(value.magnitude)
  var out = ""
  for (i, c) in digits.enumerated() {
    if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
    out.append(c)
  }
  return (value < 0 ? "-" : "") + out
}
