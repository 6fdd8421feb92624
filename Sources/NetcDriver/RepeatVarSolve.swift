import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses

/// `solve` and `check` for a spec whose repeat counts are vars (`repeat: $L`): such a var
/// decides the layers themselves, so the spec is lowered once per combination of the
/// values of those vars, and each lowering is solved for the rest; the solutions are the
/// union, the repeat vars first.
struct RepeatVarSolve {
  /// At most this many lowerings.
  static let maxCombinations = 10_000

  var source: SourceFile
  /// The repeat vars without a value from `--set`, in declaration order.
  var vars: [VarDecl]
  /// Values given with `--set`.
  var fixed: [String: Int]

  /// Nil when no repeat count of the spec reads a var left free.
  init?(source: SourceFile, fixed: [String: Int]) {
    let free = SpecLoader.repeatVars(source).filter { fixed[$0.name] == nil }
    guard !free.isEmpty else { return nil }
    self.source = source
    self.vars = free
    self.fixed = fixed
  }

  /// Every combination of the vars' values, in lexicographic order.
  func combinations() throws(DiagnosticError) -> [[Int]] {
    var out: [[Int]] = [[]]
    for v in vars {
      let values: [Int]
      switch v.domain {
      case .range(let r)?:
        guard r.count <= Self.maxCombinations else { throw tooMany(v) }
        values = Array(r)
      case .list(let l)?: values = l.sorted()
      case nil:
        throw DiagnosticError([
          .error(
            .unboundedVar, "`\(v.name)` is unbounded: it is a repeat count and no constraint fixes it", at: v.range,
            notes: [.init("give it a domain in `vars:`, such as `\(v.name): 1..48`")])
        ])
      }
      guard out.count * values.count <= Self.maxCombinations else { throw tooMany(v) }
      out = out.flatMap { prefix in values.map { prefix + [$0] } }
    }
    return out
  }

  private func tooMany(_ v: VarDecl) -> DiagnosticError {
    DiagnosticError([
      .error(
        .searchTooLarge,
        "the repeat counts' vars take more than \(Self.maxCombinations) combinations: each one is a lowering of its own",
        at: v.range, notes: [.init("narrow the domains of \(vars.map { "`\($0.name)`" }.joined(separator: ", "))")])
    ])
  }

  /// The bindings of one combination, with the `--set` values.
  func bindings(_ values: [Int]) -> [String: Int] {
    var b = fixed
    for (v, x) in zip(vars, values) { b[v.name] = x }
    return b
  }

  /// The spec lowered with one combination.
  func spec(_ values: [Int]) throws(DiagnosticError) -> Spec { try SpecLoader.parse(source, repeatBindings: bindings(values)) }

  /// Every solution: each combination's lowering solved for the other vars.
  func solve(options: SolveOptions) throws(DiagnosticError) -> Solutions {
    var total = BigCount(0)
    var listed: [[Int]] = []
    var otherVars: [String]?
    var failure: Diagnostic?
    for values in try combinations() {
      var o = options
      o.fixed = bindings(values)
      o.list = max(0, options.list - listed.count)
      let s: Solutions
      do {
        let lowered = try spec(values)
        try checkBindings(lowered.graph, o.fixed)
        s = try NetcPasses.solve(lowered.graph, options: o)
      } catch {
        if failure == nil { failure = error.diagnostics.first { $0.severity == .error } }
        continue
      }
      if s.count.isZero {
        if failure == nil { failure = s.failure }
        continue
      }
      if otherVars == nil { otherVars = s.vars }
      total.add(s.count)
      listed += s.listed.map { values + $0 }
    }
    let names = vars.map(\.name) + (otherVars ?? [])
    var result = Solutions(vars: names, fixed: fixed, count: total, listed: listed, failure: nil)
    if total.isZero {
      var d = Diagnostic.error(
        .noSolution,
        "no values of \(vars.map { "`\($0.name)`" }.joined(separator: ", ")) (the repeat counts) and the other vars satisfy the constraints",
        at: vars[0].range)
      if let failure { d.notes.append(.init("the first combination fails: \(failure.message)", at: failure.range)) }
      result.failure = d
    }
    return result
  }
}
