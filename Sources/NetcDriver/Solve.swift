import ArgumentParser
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses

/// Output formats of `solve`.
enum SolveFormat: String, ExpressibleByArgument, CaseIterable {
  case table, json
}

/// `netc solve`: every value of the spec's vars that satisfies its constraints.
struct Solve: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Find every value of the spec's vars that satisfies its constraints, exactly.",
    discussion: """
      Constraints are every `->` shape, `output:`, `where:` and `budget:`, with every extent \
      at least 1 (floor and ceil rounding, `same` padding, dilation) and groups dividing \
      channels. Solutions are listed in order of the vars' first use in the layers (ties in \
      `vars:` order), each ascending. Exit 1 when there is none.
      """
  )

  @Argument(help: "The spec file (YAML).")
  var spec: String

  @Option(help: "Output format: \(SolveFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
  var format: SolveFormat = .table

  @Flag(help: "Count the solutions without listing them.")
  var count = false

  @Option(
    parsing: .unconditional, help: "List at most this many solutions (default \(Solve.defaultMax)).",
    transform: { try IntegerOption.parse($0, in: 1...Int.max) })
  var max: Int?

  @OptionGroup var bindingOptions: BindingOptions
  var bindings: [String] { bindingOptions.bindings }

  @Option(
    parsing: .unconditional, help: "The most combinations the search tries before it reports the search as too large.",
    transform: { try IntegerOption.parse($0, in: 1...Int.max) })
  var limit = 10_000_000

  static let defaultMax = 1000

  func run() throws {
    let given = try VarBindings(bindings)
    let values = given.values
    var inputs = SpecInputs()
    let wanted = count ? 0 : (max ?? Solve.defaultMax)
    let source: SourceFile
    do { source = try inputs.read(spec) } catch { throw ExitCode(error == .io ? 2 : 1) }
    if let repeated = RepeatVarSolve(source: source, fixed: values) {
      try solveRepeated(repeated, given: given, wanted: wanted, inputs: inputs)
      return
    }
    let loaded: Spec
    do { loaded = try inputs.load(spec, bindings: values) } catch { throw ExitCode(error == .io ? 2 : 1) }
    try given.check(against: [(spec, loaded)])
    let solutions: Solutions
    let progress = Progress(humanFormat: format == .table, delay: 0.5)
    var options = SolveOptions(fixed: values, list: wanted, limit: limit)
    let graph = loaded.graph
    options.progress = { node, nodes, states in
      progress.update {
        "solve: node \(node + 1) of \(nodes) (`\(graph.nodes[node].name)`), \(NumberFormat.grouped(states)) distinct states reach it"
      }
    }
    do {
      solutions = try solve(loaded.graph, options: options)
      progress.done()
    } catch {
      progress.done()
      inputs.report(error.diagnostics)
      throw ExitCode(1)
    }
    let text: String
    switch format {
    case .json: text = SolveFormatting.json(solutions, listed: !count)
    case .table:
      if let r = solutions.interval, let v = solutions.vars.first, graph.budgetBatch?.expr == .variable(v) {
        // Every batch has the same shapes and per-example figures: the rows would repeat;
        // the budget's figures at the largest batch say how close it comes instead.
        var bindings = values
        bindings[v] = r.upperBound
        text =
          SolveFormatting.table(solutions, name: graph.name, listed: false, maxGiven: false, analyze: { _ in nil })
          + SolveFormatting.budgetLines(graph, bindings: bindings)
      } else {
        text = SolveFormatting.table(
          solutions, name: loaded.graph.name, listed: !count, maxGiven: max != nil, analyze: { try? analyze(graph, bindings: $0) })
      }
    }
    if let failure = solutions.failure { inputs.report([failure]) }
    if !text.isEmpty { Output.standard.write(text.hasSuffix("\n") ? text : text + "\n") }
    if solutions.count.isZero { throw ExitCode(1) }
  }

  /// A spec whose repeat counts are vars: one lowering per combination of their values.
  func solveRepeated(_ repeated: RepeatVarSolve, given: VarBindings, wanted: Int, inputs: SpecInputs) throws {
    let solutions: Solutions
    do { solutions = try repeated.solve(options: SolveOptions(fixed: given.values, list: wanted, limit: limit)) } catch {
      inputs.report(error.diagnostics)
      throw ExitCode(1)
    }
    let name =
      (try? repeated.spec(solutions.listed.first.map { Array($0.prefix(repeated.vars.count)) } ?? []).graph.name) ?? repeated.source.path
    let text: String
    switch format {
    case .json: text = SolveFormatting.json(solutions, listed: !count)
    case .table:
      text = SolveFormatting.table(solutions, name: name, listed: !count, maxGiven: max != nil) { bindings in
        let values = repeated.vars.map { bindings[$0.name] ?? 0 }
        guard let spec = try? repeated.spec(values) else { return nil }
        return try? analyze(spec.graph, bindings: bindings)
      }
    }
    if let failure = solutions.failure { inputs.report([failure]) }
    if !text.isEmpty { Output.standard.write(text.hasSuffix("\n") ? text : text + "\n") }
    if solutions.count.isZero { throw ExitCode(1) }
  }
}

/// Text and JSON renderings of solutions.
enum SolveFormatting {
  /// `{"vars": ["k"], "count": 3, "solutions": [{"k": 8}, ...]}`, as the language page says.
  static func json(_ s: Solutions, listed: Bool) -> String {
    var out = "{\"vars\": [" + s.vars.map(JSONFormat.string).joined(separator: ", ") + "], \"count\": \(s.count)"
    if let r = s.interval { out += ", \"range\": {\(JSONFormat.string(s.vars[0])): [\(r.lowerBound), \(r.upperBound)]}" }
    if let region = s.region {
      let (x, y) = (JSONFormat.string(s.vars[0]), JSONFormat.string(s.vars[1]))
      out += ", \"region\": ["
      out += region.runs.map { r in
        "{\(x): [\(r.first.lowerBound), \(r.first.upperBound)], \(y): [\(r.second.lowerBound), \(r.second.upperBound)]}"
      }.joined(separator: ", ")
      out += "]"
    }
    if listed {
      out += ", \"solutions\": ["
      out += s.listed.map { values in
        "{" + zip(s.vars, values).map { "\(JSONFormat.string($0)): \($1)" }.joined(separator: ", ") + "}"
      }.joined(separator: ", ")
      out += "]"
      if BigCount(UInt64(s.listed.count)) < s.count { out += ", \"listed\": \(s.listed.count)" }
    }
    return out + "}"
  }

  /// A header with the count, the independent choices in compact form, and a table of
  /// solutions with each one's output shape, parameters and MACs.
  static func table(
    _ s: Solutions, name: String, listed: Bool, maxGiven: Bool, analyze analyzeRow: ([String: Int]) -> Analysis?
  ) -> String {
    guard !s.count.isZero else { return "" }
    let fixed = s.fixed.keys.sorted().map { "\($0) = \(s.fixed[$0]!)" }.joined(separator: ", ")
    let plural = s.count == BigCount(1) ? "solution" : "solutions"
    var out = "\(name): \(NumberFormat.groupedDigits(s.count.description)) \(plural)"
    if s.vars.isEmpty { out += " (no free vars: the constraints hold)" }
    if !fixed.isEmpty { out += " with \(fixed)" }
    out += "\n"
    if let r = s.interval { out += "every value of: \(s.vars[0]) ∈ \(r.lowerBound)..\(r.upperBound)\n" }
    if let region = s.region { out += regionText(region, vars: s.vars) }
    guard listed, !s.vars.isEmpty else { return out }
    let complete = BigCount(UInt64(s.listed.count)) == s.count
    if complete && s.listed.count > 1 {
      let f = factorSolutions(s.listed, varCount: s.vars.count)
      if !f.independent.isEmpty {
        let parts = f.independent.map { "\(s.vars[$0.index]) ∈ \(setText($0.values))" }
        let rest =
          f.dependent.isEmpty
          ? ""
          : " × (\(f.dependent.map { s.vars[$0] }.joined(separator: ", "))) ∈ the \(counted(f.combinations.count, "combination")) below"
        out += "every combination of: " + parts.joined(separator: " × ") + rest + "\n"
      }
    }
    if !complete {
      out += "listing the first \(s.listed.count)\(maxGiven ? "" : " (--max N lists more, --count only counts)")\n"
    }
    var rows: [[String]] = [s.vars + ["output", "params", "MACs"]]
    var bindings = s.fixed
    for values in s.listed {
      for (n, v) in zip(s.vars, values) { bindings[n] = v }
      if let a = analyzeRow(bindings) {
        rows.append(
          values.map(String.init) + [
            TableFormat.shape(a.shapes[a.graph.outputID]), NumberFormat.grouped(a.costs.total.params),
            NumberFormat.grouped(a.costs.total.macs),
          ])
      } else {
        rows.append(values.map(String.init) + ["?", "?", "?"])
      }
    }
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
    out += "\n"
    for (i, row) in rows.enumerated() {
      var line = ""
      for (c, cell) in row.enumerated() {
        line += (c == 0 ? "" : "  ") + String(repeating: " ", count: widths[c] - cell.count) + cell
      }
      out += line + "\n"
      if i == 0 { out += String(repeating: "─", count: widths.reduce(0, +) + 2 * (widths.count - 1)) + "\n" }
    }
    return out
  }

  /// `every combination of: S ∈ 1..100000 × T ∈ 1..100000` for a box; for a staircase, its
  /// runs (at most `shown`, spread over the first var, the first and the last among them).
  static func regionText(_ region: SolutionRegion, vars: [String], shown: Int = 12) -> String {
    func span(_ r: ClosedRange<Int>) -> String { r.lowerBound == r.upperBound ? "= \(r.lowerBound)" : "∈ \(r.lowerBound)..\(r.upperBound)" }
    let runs = region.runs
    if runs.count == 1 { return "every combination of: \(vars[0]) \(span(runs[0].first)) × \(vars[1]) \(span(runs[0].second))\n" }
    let all = runs[0].first.lowerBound...runs[runs.count - 1].first.upperBound
    let picked =
      runs.count <= shown ? Array(runs.indices) : (0..<shown).map { $0 * (runs.count - 1) / (shown - 1) }
    var out =
      "every pair of: \(vars[0]) \(span(all)), each with \(vars[1]) in a range that changes with it, in \(NumberFormat.grouped(runs.count)) runs"
    out += picked.count < runs.count ? " (\(picked.count) shown; --format json lists every one):\n" : ":\n"
    let left = picked.map { "\(vars[0]) \(span(runs[$0].first))" }
    let width = left.map(\.count).max() ?? 0
    for (i, text) in zip(picked, left) {
      out += "  " + text + String(repeating: " ", count: width - text.count) + "  \(vars[1]) \(span(runs[i].second))\n"
    }
    return out
  }

  /// `at B = 195: training 16,ddd B (15.6 GiB), budget <= 17,179,869,184 B`: each limit's
  /// figure at the largest batch.
  static func budgetLines(_ graph: Graph, bindings: [String: Int]) -> String {
    guard let (batch, figures) = budgetFigures(graph, bindings: bindings) else { return "" }
    var out = ""
    for (limit, value) in figures {
      let figure = value.map { limit.metric.isBytes ? Memory.bytesText($0) : NumberFormat.grouped($0) } ?? "more than 2^63"
      let bound = limit.metric.isBytes ? Memory.bytesText(limit.bound) : NumberFormat.grouped(limit.bound)
      out += "at batch \(batch): \(limit.metric.rawValue) \(figure), budget \(limit.relation.rawValue) \(bound)\n"
    }
    return out
  }

  /// `{8, 9, 10}`; runs of four or more as `1..205`.
  static func setText(_ values: [Int]) -> String {
    var parts: [String] = []
    var i = 0
    while i < values.count {
      var j = i
      while j + 1 < values.count && values[j + 1] == values[j] + 1 { j += 1 }
      if j - i >= 3 {
        parts.append("\(values[i])..\(values[j])")
      } else {
        parts += values[i...j].map(String.init)
      }
      i = j + 1
    }
    return "{" + parts.joined(separator: ", ") + "}"
  }
}

extension NumberFormat {
  /// Decimal digits grouped by thousands: `1,234,567`.
  static func groupedDigits(_ digits: String) -> String {
    let d = Array(digits)
    var out = ""
    for (i, c) in d.enumerated() {
      if i > 0 && (d.count - i) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return out
  }
}
