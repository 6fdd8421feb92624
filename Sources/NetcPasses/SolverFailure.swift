import NetcDiagnostics
import NetcIR

/// What the search learned at the node where every candidate failed.
struct FailureInfo {
  var node: Int
  var stage: StepFailure = .domain
  /// Near misses of a shape constraint: distance, the vars' values, the shape they gave.
  var nearest: [(distance: Int, env: [Int], shape: [Int])] = []
  /// The input shapes that reached the node.
  var inputs: [[Int]] = []
  /// The failing condition or budget limit.
  var which = 0
  /// For a budget: the smallest value reached and the values giving it.
  var closest: (value: Int, env: [Int])?
  /// A var with no candidates.
  var emptyVar: Int?
}

extension SolverPlan {
  /// The values bound in `env` of the vars picked at or before `node`: `k = 11, s = 3`.
  func assignment(_ env: [Int], upTo node: Int) -> String {
    order.filter { vars[$0].intro <= node && env[vars[$0].slot] != SlotExpr.unbound }
      .map { "\(vars[$0].name) = \(env[vars[$0].slot])" }.joined(separator: ", ")
  }

  /// NS302 for the node where every candidate failed, naming the constraint that failed
  /// for the candidates that got furthest, with the nearest values considered.
  func describe(_ info: FailureInfo, graph: Graph) -> Diagnostic {
    let node = graph.nodes[info.node]
    let reaching =
      info.inputs.isEmpty ? "" : " (on \(info.inputs.map(formatShape).joined(separator: ", "))\(info.inputs.count >= 4 ? ", ..." : ""))"
    func misses(_ want: String) -> [Diagnostic.Note] {
      info.nearest.map { miss in
        let values = assignment(miss.env, upTo: info.node)
        return .init("\(values.isEmpty ? "the input" : values) gives \(formatShape(miss.shape)), not \(want)")
      }
    }
    switch info.stage {
    case .expect, .outputExpect:
      let pattern = info.stage == .expect ? node.expect! : graph.outputExpect!
      let what = info.stage == .expect ? "`\(node.name)`" : "the network's output"
      return .error(
        .noSolution, "no solution: no values of the vars make \(what) \(pattern)", at: pattern.range,
        notes: misses(pattern.description)
          + [
            .init(
              "the nearest values considered are shown; every extent follows out = floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1"
            )
          ].prefix(info.nearest.isEmpty ? 0 : 1))
    case .condition:
      let c = conditions[info.which].cond
      return .error(
        .noSolution, "no solution: the condition `\(c.lhs) \(c.relation.rawValue) \(c.rhs)` never holds with the constraints before it",
        at: c.range,
        notes: info.nearest.map { .init("\(assignment($0.env, upTo: info.node)) satisfies the rest but not this") })
    case .budget, .finalBudget:
      let b = graph.budget[info.which]
      var notes: [Diagnostic.Note] = []
      if let (value, env) = info.closest {
        let values = assignment(env, upTo: info.node)
        notes.append(
          .init(
            "the closest is \(value) \(b.metric.rawValue)\(info.stage == .budget ? " already at `\(node.name)`" : "")\(values.isEmpty ? "" : " with " + values)"
          ))
      }
      return .error(
        .noSolution, "no solution: no values of the vars keep \(b.metric.rawValue) \(b.relation.rawValue) \(b.bound)", at: b.range,
        notes: notes)
    case .groups:
      return .error(.noSolution, "no solution: at `\(node.name)` the channels never divide by the groups\(reaching)", at: node.headRange)
    case .extent:
      return .error(
        .noSolution, "no solution: every choice leaves `\(node.name)` with an output extent below 1\(reaching)", at: node.headRange,
        notes: [.init("out = floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1 must be at least 1")])
    case .invalid:
      return .error(
        .noSolution,
        "no solution: at `\(node.name)` every choice gives a value out of range (a kernel, stride, dilation, count or groups below 1, or a negative pad)\(reaching)",
        at: node.headRange)
    case .sizeOverflow:
      return .error(
        .noSolution, "no solution: at `\(node.name)` every choice overflows 64-bit integers in its sizes\(reaching)",
        at: node.headRange, notes: [.init("run `netc analyze --set ...` with some values to see the arithmetic")])
    case .overflow:
      return .error(
        .noSolution, "no solution: at `\(node.name)` every choice overflows 64-bit integers in its `same` padding\(reaching)",
        at: node.headRange, notes: [.init("run `netc analyze --set ...` with some values to see the arithmetic")])
    case .structure:
      return .error(
        .noSolution, "no solution: `\(node.name)` cannot take its input for any values\(reaching)", at: node.headRange,
        notes: [.init("run `netc analyze --set ...` with some values to see why")])
    case .domain:
      let name = info.emptyVar.map { "`\(vars[$0].name)`" } ?? "a var"
      return .error(
        .noSolution, "no solution: \(name) has no values to try at `\(node.name)`\(reaching)",
        at: info.emptyVar.map { vars[$0].range } ?? node.headRange,
        notes: [.init("its domain, its default for its role and its `where:` bounds leave nothing")])
    }
  }
}
