import NetcDiagnostics
import NetcIR

/// Everything `analyze` reports about a graph with its vars bound.
public struct Analysis: Sendable {
  /// The graph analysed, with `shortcut: auto` resolved (`resolveShortcuts`).
  public var graph: Graph
  /// The vars' values used.
  public var bindings: [String: Int]
  /// Each node's shape and resolved attributes.
  public var shapes: Shapes
  /// Each node's figures and the totals.
  public var costs: Costs
  /// The batch size the figures are for.
  public var batch: Int
}

/// The analysis pipeline, top to bottom: verify the IR, bind the vars and check the
/// `where:` conditions, infer shapes (checking every asserted shape), count costs, resolve
/// `shortcut: auto`.
public func analyze(_ graph: Graph, bindings: [String: Int] = [:], batch: Int = 1) throws(DiagnosticError) -> Analysis {
  try verify(graph)
  try checkBindings(graph, bindings)
  let (resolved, shapes, costs) = try costedAndResolved(graph, try inferShapes(graph, bindings: bindings), batch: batch)
  return Analysis(graph: resolved, bindings: bindings, shapes: shapes, costs: costs, batch: batch)
}

/// The costs of `graph` as written (an elided projection costs nothing, not even an
/// output tensor: it is a view of its input), then the graph `resolveShortcuts` makes of
/// it, with its shapes: what the memory figures, budgets and backends read.
public func costedAndResolved(_ graph: Graph, _ inferred: Shapes, batch: Int = 1) throws(DiagnosticError) -> (
  graph: Graph, shapes: Shapes, costs: Costs
) {
  let costs = try countCosts(graph, inferred, batch: batch)
  let (resolved, shapes) = resolveShortcuts(graph, inferred)
  return (resolved, shapes, costs)
}

/// Bound vars must be declared, lie in their domains and satisfy `where:`.
public func checkBindings(_ graph: Graph, _ bindings: [String: Int]) throws(DiagnosticError) {
  var problems: [Diagnostic] = []
  for decl in graph.vars {
    guard let v = bindings[decl.name], let domain = decl.domain else { continue }
    let inside: Bool
    switch domain {
    case .range(let r): inside = r.contains(v)
    case .list(let l): inside = l.contains(v)
    }
    if !inside {
      problems.append(.error(.invalidValue, "`\(decl.name)` = \(v) is outside its domain", at: decl.range))
    }
  }
  for condition in graph.conditions {
    guard let l = try? condition.lhs.evaluate(bindings), let r = try? condition.rhs.evaluate(bindings) else { continue }
    if !condition.relation.holds(l, r) {
      problems.append(
        .error(
          .expectationFailed,
          "the condition `\(condition.lhs) \(condition.relation.rawValue) \(condition.rhs)` does not hold: \(l) \(condition.relation.rawValue) \(r) is false",
          at: condition.range))
    }
  }
  if !problems.isEmpty { throw DiagnosticError(problems) }
}
