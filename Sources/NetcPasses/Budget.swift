import NetcDiagnostics
import NetcIR

/// Checks the totals against `budget:`: one NS301 error per limit that does not hold,
/// with the actual figure and the limit.
public func checkBudget(_ graph: Graph, _ costs: Costs) -> [Diagnostic] {
  var problems: [Diagnostic] = []
  for limit in graph.budget {
    let actual: Int
    switch limit.metric {
    case .params: actual = costs.total.params
    case .buffers: actual = costs.total.buffers
    case .macs: actual = costs.total.macs
    case .activations: actual = costs.total.activations
    }
    guard !limit.relation.holds(actual, limit.bound) else { continue }
    problems.append(
      .error(
        .budgetExceeded,
        "the network has \(grouped(actual)) \(limit.metric.rawValue), outside its budget of \(limit.relation.rawValue) \(grouped(limit.bound))",
        at: limit.range,
        notes: [.init("\(limit.metric.rawValue) counts \(limit.metric.meaning)")]))
  }
  return problems
}

extension BudgetLimit.Metric {
  /// What the metric counts, as the spec language defines it.
  var meaning: String {
    switch self {
    case .params: "learnable weights and biases (BN gamma and beta included)"
    case .buffers: "non-learnable state (BN running mean and variance)"
    case .macs: "multiply-accumulates of conv and fc layers, for one example"
    case .activations: "the elements of every layer's output, for one example"
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
