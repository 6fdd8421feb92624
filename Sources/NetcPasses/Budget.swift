import NetcDiagnostics
import NetcIR

/// Checks the totals against `budget:`: one NS301 error per limit that does not hold,
/// with the actual figure and the limit. `bindings` give the budget's `batch` its value
/// when it is a var.
public func checkBudget(_ graph: Graph, _ shapes: Shapes, _ costs: Costs, bindings: [String: Int] = [:]) -> [Diagnostic] {
  guard !graph.budget.isEmpty else { return [] }
  let batch: Int
  switch budgetBatch(graph, bindings) {
  case .success(let b): batch = b
  case .failure(let d): return [d]
  }
  var figures = BudgetFigures(graph: graph, shapes: shapes, costs: costs)
  var problems: [Diagnostic] = []
  for limit in graph.budget {
    guard let actual = figures.value(limit.metric, batch: batch) else {
      problems.append(.error(.overflow, "the network's \(limit.metric.rawValue) overflow 64-bit integers", at: limit.range))
      continue
    }
    guard !limit.relation.holds(actual, limit.bound) else { continue }
    let has =
      limit.metric.isBytes
      ? "\(grouped(actual)) bytes of \(limit.metric.rawValue) at \(graph.budgetPrecision.rawValue)\(settingsText(graph, limit.metric, batch))"
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

/// Each limit of `budget:` with the network's figure under `bindings` (nil on overflow), and
/// the batch they count at; nil when the shapes or costs cannot be formed.
public func budgetFigures(_ graph: Graph, bindings: [String: Int]) -> (batch: Int, figures: [(limit: BudgetLimit, value: Int?)])? {
  guard case .success(let batch) = budgetBatch(graph, bindings), let inferred = try? inferShapes(graph, bindings: bindings),
    let resolved = try? costedAndResolved(graph, inferred)
  else { return nil }
  var figures = BudgetFigures(graph: resolved.graph, shapes: resolved.shapes, costs: resolved.costs)
  return (batch, graph.budget.map { ($0, figures.value($0.metric, batch: batch)) })
}

/// ` (adamw, batch 196)`: the settings a byte figure was counted under, beyond the precision.
private func settingsText(_ graph: Graph, _ metric: BudgetLimit.Metric, _ batch: Int) -> String {
  var parts: [String] = []
  if metric == .training {
    parts.append(graph.budgetOptimizer.rawValue)
    if let m = graph.budgetMixedPrecision { parts.append("mixed precision \(m.rawValue)") }
  }
  if metric.growsWithBatch && graph.budgetBatch != nil { parts.append("batch \(batch)") }
  return parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"
}

/// The budget's batch under `bindings`: 1 without one; an error when it is a var without a
/// value or evaluates below 1.
func budgetBatch(_ graph: Graph, _ bindings: [String: Int]) -> Result<Int, Diagnostic> {
  guard let b = graph.budgetBatch else { return .success(1) }
  guard let value = try? b.expr.evaluate(bindings) else {
    return .failure(.error(.unboundVar, "the budget's batch `\(b.expr)` has no value here", at: b.range))
  }
  guard value >= 1 else { return .failure(.error(.invalidValue, "the budget's batch must be at least 1, got \(value)", at: b.range)) }
  return .success(value)
}

/// The figures `budget:` limits, for one set of shapes: the layer sums from the costs (one
/// example; the memory ones times the batch), the whole network's arena and training step
/// computed once when a limit asks for them. The training step is kept as its closed form
/// in the batch, so a search over the batch evaluates it once.
struct BudgetFigures {
  let graph: Graph
  let shapes: Shapes
  let costs: Costs
  /// The training step's bytes, once computed (nil inside: overflow).
  private var training: BatchBytes??

  init(graph: Graph, shapes: Shapes, costs: Costs) {
    self.graph = graph
    self.shapes = shapes
    self.costs = costs
  }

  /// The value of `metric` at `batch`, or nil on overflow.
  mutating func value(_ metric: BudgetLimit.Metric, batch: Int) -> Int? {
    let precision = graph.budgetPrecision
    switch metric {
    case .params, .buffers, .macs, .activations, .weights, .kvCache, .memory:
      return budgetValue(metric, costs.total, precision: precision, batch: batch)
    case .activationMemory:
      return planActivationMemory(graph, shapes, batch: batch, storage: precision)?.peak
    case .training:
      if training == nil {
        training =
          trainingMemory(
            graph, shapes, params: costs.total.params, optimizer: graph.budgetOptimizer, storage: precision,
            mixedPrecision: graph.budgetMixedPrecision)?.total
      }
      return training!.flatMap { $0.at(batch: batch) }
    }
  }
}

/// A budget metric of a cost (one node's, or the totals): additive over nodes, so the
/// solver sums it as it goes; the KV cache counts `batch` sequences. Nil on overflow, and
/// for the metrics that are no sum over the layers.
func budgetValue(_ metric: BudgetLimit.Metric, _ c: Cost, precision: StorageType, batch: Int = 1) -> Int? {
  func bytes(_ n: Int) -> Int? {
    let (b, o) = n.multipliedReportingOverflow(by: precision.bytes)
    return o ? nil : b
  }
  func cache() -> Int? {
    let (n, o) = c.kvCache.multipliedReportingOverflow(by: batch)
    return o ? nil : bytes(n)
  }
  switch metric {
  case .params: return c.params
  case .buffers: return c.buffers
  case .macs: return c.macs
  case .activations: return c.activations
  case .weights:
    let (n, o) = c.params.addingReportingOverflow(c.buffers)
    return o ? nil : bytes(n)
  case .kvCache: return cache()
  case .memory:
    guard let w = budgetValue(.weights, c, precision: precision), let kv = cache() else { return nil }
    let (m, o) = w.addingReportingOverflow(kv)
    return o ? nil : m
  case .activationMemory, .training: return nil
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
    case .kvCache:
      "the bytes of attention's cached keys and values: 2 x layers x kv heads x head width x positions, per sequence (times the budget's batch)"
    case .memory: "the bytes of the weights and the KV cache"
    case .activationMemory:
      "the bytes of the arena netc's offset planner lays out for the inference activations, the input included, at the budget's batch"
    case .training:
      "the bytes of one training step at the budget's batch: weights, gradients, optimizer state, the fp32 master copy under mixed precision, and what the forward pass saves for backward as PyTorch's eager autograd keeps it"
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
