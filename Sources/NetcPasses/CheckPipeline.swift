import NetcDiagnostics
import NetcIR

/// The most assignments of vars `check` tries when it looks for one that satisfies every
/// constraint; beyond it, the spec is left to `netc solve`.
public let maxCheckedAssignments = 4096

/// Everything `netc check` verifies about a lowered spec, top to bottom: the IR's
/// invariants, then, with no free vars, shapes (every `->`, `expect:`, `output:`), costs
/// and `budget:`, then lint warnings. With free vars, some assignment of them must pass
/// all of that and `where:`; the search is exhaustive over the declared domains when they
/// hold at most `maxCheckedAssignments` assignments, else the spec gets an NS306 note.
///
/// Returns every diagnostic found (errors, warnings, notes), unsorted.
public func checkSpec(
  _ graph: Graph, unusedVars: [VarDecl] = [],
  unusedBlocks: [(name: String, range: SourceRange)] = [],
  weights: SourceRange? = nil
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
  if let weights {
    out.append(
      Diagnostic(
        .note, .notChecked, "not checked: weight shapes (`netc run` and `netc emit` check them)",
        at: weights))
  }

  let unused = Set(unusedVars.map(\.name))
  let free = graph.vars.filter { !unused.contains($0.name) }
  if free.isEmpty {
    let (shapes, problems) = evaluate(graph, bindings: [:])
    return out + problems + lint(graph, shapes)
  }

  out += lint(graph, nil)
  let names = free.map { "`\($0.name)`" }.joined(separator: ", ")
  guard let domains = enumerableDomains(free) else {
    let missing = free.filter { $0.domain == nil }.map { "`\($0.name)`" }
    let why =
      missing.isEmpty
      ? "their domains hold more than \(maxCheckedAssignments) assignments"
      : "\(missing.joined(separator: ", ")) \(missing.count == 1 ? "has" : "have") no domain"
    out.append(
      Diagnostic(
        .note, .notChecked,
        "not checked: shapes, constraints and budget depend on the free vars \(names), and \(why)",
        at: free[0].range,
        notes: [.init("`netc solve` finds their values; `netc analyze --set` checks one")]))
    return out
  }
  var firstFailure: (bindings: [String: Int], problems: [Diagnostic])?
  var tried = 0
  var found = false
  forEachAssignment(free.map(\.name), domains) { bindings in
    tried += 1
    let problems = evaluate(graph, bindings: bindings).problems
    if problems.isEmpty {
      found = true
      return false
    }
    if firstFailure == nil { firstFailure = (bindings, problems) }
    return true
  }
  if !found {
    var notes: [Diagnostic.Note] = []
    if let (bindings, problems) = firstFailure, let first = problems.sortedForDisplay().first {
      let values = free.map { "\($0.name) = \(bindings[$0.name]!)" }.joined(separator: ", ")
      notes.append(.init("with \(values): \(first.message)", at: first.range))
    }
    out.append(
      .error(
        .noSolution,
        "no values of \(names) satisfy the constraints (\(tried) \(tried == 1 ? "assignment" : "assignments") tried)",
        at: free[0].range, notes: notes))
  }
  return out
}

/// Bindings, shapes (with every asserted shape), costs and budget under one assignment:
/// the shapes when they could be inferred, and every problem found.
private func evaluate(_ graph: Graph, bindings: [String: Int]) -> (
  shapes: Shapes?, problems: [Diagnostic]
) {
  var shapes: Shapes?
  do {
    try checkBindings(graph, bindings)
    shapes = try inferShapes(graph, bindings: bindings)
    return (shapes, checkBudget(graph, try countCosts(graph, shapes!)))
  } catch {
    return (shapes, error.diagnostics)
  }
}

/// Each var's values, when all have domains and their product is small enough.
private func enumerableDomains(_ vars: [VarDecl]) -> [[Int]]? {
  var total = 1
  var out: [[Int]] = []
  for v in vars {
    let values: [Int]
    switch v.domain {
    case nil: return nil
    case .list(let l)?: values = l
    case .range(let r)?:
      guard r.count <= maxCheckedAssignments else { return nil }
      values = Array(r)
    }
    let (p, o) = total.multipliedReportingOverflow(by: values.count)
    guard !o, p <= maxCheckedAssignments else { return nil }
    total = p
    out.append(values)
  }
  return out
}

/// Calls `body` with every assignment in lexicographic order until it returns false.
private func forEachAssignment(
  _ names: [String], _ domains: [[Int]], _ body: ([String: Int]) -> Bool
) {
  guard !domains.contains(where: \.isEmpty) else { return }
  var index = Array(repeating: 0, count: names.count)
  while true {
    var bindings: [String: Int] = [:]
    for (i, name) in names.enumerated() { bindings[name] = domains[i][index[i]] }
    guard body(bindings) else { return }
    var i = names.count - 1
    while i >= 0 {
      index[i] += 1
      if index[i] < domains[i].count { break }
      index[i] = 0
      i -= 1
    }
    if i < 0 { return }
  }
}
