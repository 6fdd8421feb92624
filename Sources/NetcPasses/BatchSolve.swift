import NetcDiagnostics
import NetcIR

/// `solve` for the question a memory budget asks: the largest batch that fits. When the
/// one free var is the budget's `batch` (`budget: {training: "<= 16 GiB", batch: $B}`) and
/// nothing else mentions it, the shapes and costs do not depend on it and every figure a
/// budget limits either stays the same (parameters, MACs per example) or grows with it
/// (the KV cache, the activation arena, the training step, whose closed form a·B + c is
/// computed once), so the valid batches are one interval, found by bisection. A spec
/// with no free var whose budget limits a whole-network figure is checked here too, as the
/// layer-by-layer search cannot sum those. Nil when neither applies.
func solveBatch(_ graph: Graph, options: SolveOptions) throws(DiagnosticError) -> Solutions? {
  let free = graph.vars.filter { options.fixed[$0.name] == nil }
  var bindings = options.fixed
  var v: String?
  var range = 1...1
  if free.isEmpty {
    guard graph.budget.contains(where: { !$0.metric.isLayerSum }) else { return nil }
    switch budgetBatch(graph, bindings) {
    case .success(let b): range = b...b
    case .failure(let d): throw DiagnosticError([d])
    }
  } else {
    guard free.count == 1, let b = graph.budgetBatch, b.expr == .variable(free[0].name) else { return nil }
    let name = free[0].name
    if graph.allInputs.contains(where: { $0.shape.contains { $0.expr.variables.contains(name) } })
      || graph.inputShape.contains(where: { $0.expr.variables.contains(name) }) || graph.outputExpect?.mentions(name) == true
    {
      return nil
    }
    for node in graph.nodes {
      if allValues(node).contains(where: { $0.expr.variables.contains(name) }) || node.expect?.mentions(name) == true { return nil }
    }
    switch free[0].domain {
    case .range(let r)?: range = max(r.lowerBound, 1)...max(r.upperBound, 1)
    case .list(let values)?:
      guard let lo = values.min(), let hi = values.max(), values.count == hi - lo + 1 else { return nil }
      range = max(lo, 1)...max(hi, 1)
    case nil: return nil
    }
    v = name
  }
  // Conditions on the batch alone narrow its range; the others must hold as they stand.
  for c in graph.conditions {
    if let v, case .variable(v) = c.lhs, let b = c.rhs.constant {
      guard let r = narrowed(range, c.relation, b) else { return none(graph, v, options, "`where:` leaves no batch", at: c.range) }
      range = r
    } else if let v, case .variable(v) = c.rhs, let b = c.lhs.constant {
      guard let r = narrowed(range, c.relation.flipped, b) else {
        return none(graph, v, options, "`where:` leaves no batch", at: c.range)
      }
      range = r
    } else if let v, c.lhs.variables.contains(v) || c.rhs.variables.contains(v) {
      return nil
    } else {
      guard let l = try? c.lhs.evaluate(bindings), let r = try? c.rhs.evaluate(bindings) else { return nil }
      guard c.relation.holds(l, r) else { return none(graph, v, options, "a `where:` condition does not hold", at: c.range) }
    }
  }
  if let v { bindings[v] = range.lowerBound }
  let (inferred, problems) = inferShapesReporting(graph, bindings: bindings)
  guard let inferred, problems.isEmpty else {
    let first = problems.first
    return none(graph, v, options, first?.message ?? "the shapes cannot be formed", at: first?.range)
  }
  let (resolved, shapes, costs): (Graph, Shapes, Costs)
  do { (resolved, shapes, costs) = try costedAndResolved(graph, inferred) } catch {
    let first = error.diagnostics.first
    return none(graph, v, options, first?.message ?? "the costs overflow", at: first?.range)
  }
  var figures = BudgetFigures(graph: resolved, shapes: shapes, costs: costs)
  /// Whether every limit holds on the side `upper` says: `<=`, `<` and the upper half of
  /// `==` (true, then false as the batch grows), or `>=`, `>` and the lower half of `==`.
  func holds(_ batch: Int, upper: Bool) -> Bool {
    for limit in graph.budget {
      let relation: Condition.Relation
      switch limit.relation {
      case .le, .lt:
        guard upper else { continue }
        relation = limit.relation
      case .ge, .gt:
        guard !upper else { continue }
        relation = limit.relation
      case .eq: relation = upper ? .le : .ge
      case .ne: return false
      }
      // An overflowing figure exceeds every upper limit and meets every lower one.
      guard let value = figures.value(limit.metric, batch: batch) else { return !upper }
      if !relation.holds(value, limit.bound) { return false }
    }
    return true
  }
  let lo = range.lowerBound, hi = range.upperBound
  var a = lo
  if !holds(lo, upper: false) {
    guard holds(hi, upper: false) else { return budgetFailure(resolved, shapes, costs, v, options, at: hi) }
    var (x, y) = (lo, hi)
    while x < y {
      let m = x + (y - x) / 2
      if holds(m, upper: false) { y = m } else { x = m + 1 }
    }
    a = x
  }
  guard holds(a, upper: true) else { return budgetFailure(resolved, shapes, costs, v, options, at: a) }
  var (x, y) = (a, hi)
  while x < y {
    let m = y - (y - x) / 2
    if holds(m, upper: true) { x = m } else { y = m - 1 }
  }
  guard let v else { return Solutions(vars: [], fixed: options.fixed, count: BigCount(1), listed: [[]], failure: nil) }
  var result = Solutions(vars: [v], fixed: options.fixed, count: BigCount(UInt64(x - a + 1)), listed: [], failure: nil)
  result.interval = a...x
  if options.list > 0 { result.listed = (a...min(x, a &+ min(options.list, x - a + 1) - 1)).map { [$0] } }
  return result
}

/// No solution because of the budget at batch `at`: its first problem there is the reason.
private func budgetFailure(
  _ graph: Graph, _ shapes: Shapes, _ costs: Costs, _ v: String?, _ options: SolveOptions, at batch: Int
) -> Solutions {
  var bindings = options.fixed
  if let v { bindings[v] = batch }
  let first = checkBudget(graph, shapes, costs, bindings: bindings).first
  let message = first.map { v == nil ? $0.message : "with \(v!) = \(batch), \($0.message)" } ?? "the budget does not hold"
  return none(graph, v, options, message, at: first?.range)
}

/// No solution, for the reason `why` (at `range`).
private func none(_ graph: Graph, _ v: String?, _ options: SolveOptions, _ why: String, at range: SourceRange?) -> Solutions {
  let decl = graph.vars.first { $0.name == v }
  let failure: Diagnostic
  if let v {
    failure = .error(.noSolution, "no batch `\(v)` satisfies the constraints", at: decl?.range, notes: [.init(why, at: range)])
  } else {
    failure = .error(.noSolution, "the constraints do not hold: \(why)", at: range)
  }
  return Solutions(vars: v.map { [$0] } ?? [], fixed: options.fixed, count: BigCount(0), listed: [], failure: failure)
}
