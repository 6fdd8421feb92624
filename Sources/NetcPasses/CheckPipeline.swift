import NetcDiagnostics
import NetcIR

/// Everything `netc check` verifies about a lowered spec, top to bottom: the IR's
/// invariants, then, with no free vars, shapes (every `->`, `expect:`, `output:`), costs
/// and `budget:`, then lint warnings. With free vars, the solver must find at least one
/// assignment that satisfies all of that and `where:` (it counts exactly; a search too
/// large for it becomes an NS306 note, as `netc solve` would refuse it too).
///
/// Returns every diagnostic found (errors, warnings, notes), unsorted.
public func checkSpec(
  _ graph: Graph, unusedVars: [VarDecl] = [],
  unusedBlocks: [(name: String, range: SourceRange)] = []
) -> [Diagnostic] {
  do { try verify(graph) } catch { return error.diagnostics }
  var out: [Diagnostic] = []
  for v in unusedVars {
    out.append(
      .warning(
        .unusedVar, "var `\(v.name)` is declared but nothing uses it", at: v.range,
        notes: [.init("use it as `$\(v.name)` or remove it from `vars`")]))
  }
  for b in unusedBlocks {
    out.append(
      .warning(
        .unusedBlock, "block `\(b.name)` is defined but never used", at: b.range,
        notes: [.init("use it with `- block: \(b.name)` or remove it from `blocks`")]))
  }

  let unused = Set(unusedVars.map(\.name))
  let free = graph.vars.filter { !unused.contains($0.name) }
  if free.isEmpty {
    let (shapes, problems) = evaluate(graph, bindings: [:])
    if let input = shapes?.nodes.first?.shape, let w = channelsFirstInputWarning(graph, input) { out.append(w) }
    return out + problems + lint(graph, shapes)
  }

  out += lint(graph, nil)
  do {
    let solutions = try solve(graph, options: SolveOptions(list: 0))
    if solutions.count.isZero {
      out.append(
        solutions.failure
          ?? .error(.noSolution, "no values of the vars satisfy the constraints", at: free[0].range))
    }
  } catch {
    for d in error.diagnostics {
      if d.code == .searchTooLarge {
        var note = Diagnostic(.note, .notChecked, "not checked: \(d.message)", at: d.range, notes: d.notes)
        note.notes.append(.init("`netc solve --count` reports the same limit; narrow the vars' domains"))
        out.append(note)
      } else {
        out.append(d)
      }
    }
  }
  return out
}

/// Bindings, shapes (with every asserted shape), costs and budget: the shapes when they
/// could be formed (also when an assertion fails, so budgets and lint still run), and
/// every problem found.
private func evaluate(_ graph: Graph, bindings: [String: Int]) -> (
  shapes: Shapes?, problems: [Diagnostic]
) {
  do { try checkBindings(graph, bindings) } catch { return (nil, error.diagnostics) }
  let (shapes, problems) = inferShapesReporting(graph, bindings: bindings)
  guard let shapes else { return (nil, problems) }
  do {
    // Lint reads the shapes of the graph as written; the budget and figures, what it resolves to.
    let (resolved, resolvedShapes, costs) = try costedAndResolved(graph, shapes)
    return (
      shapes,
      problems + checkBudget(resolved, resolvedShapes, costs, bindings: bindings) + checkFigures(resolved, resolvedShapes, costs)
    )
  } catch {
    return (shapes, problems + error.diagnostics)
  }
}
