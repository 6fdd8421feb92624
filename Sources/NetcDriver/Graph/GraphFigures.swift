import NetcIR
import NetcPasses

/// What a picture says about each node, from `analyze`'s results: numbers where every
/// var is bound, expressions in the free vars otherwise. Bars need numbers: with vars
/// free they show the shares at the top of each var's declared range (GPT-2's at
/// T = 1024), said in the totals; a var without a range leaves the bars empty.
struct GraphFigures {
  /// The report's header line, as `analyze` prints it.
  var title: String
  /// Per node: the output shape as text (`112x112x64`, `T x 768`).
  var shape: [String]
  /// Per node: params and MACs, as numbers where they are known.
  var params: [Figure], macs: [Figure]
  /// Per node: whether analyze leaves it out (an identity shortcut's placeholder).
  var hidden: [Bool]
  /// The totals and notes lines of `analyze`'s table, verbatim.
  var summary: [String]
  /// The whole network's params and MACs, for the share bars (at `barPoint` with vars free).
  var totalParams: Int?, totalMacs: Int?
  /// Where the bars of a symbolic picture are evaluated, in declaration order; empty when
  /// every var is bound.
  var barPoint: [(name: String, value: Int)] = []

  /// One figure: its number when known, and its text.
  struct Figure {
    var value: Int?
    var text: String
    /// The expression, where vars are free.
    var expr: SymExpr? = nil
    /// The value its bar shows: the value where known, else the expression at `barPoint`.
    var bar: Int?
  }

  init(_ analysis: Analysis, report: Report) {
    let n = analysis.graph.nodes.count
    shape = (0..<n).map { TableFormat.shape(analysis.shapes[$0]) }
    params = analysis.costs.nodes.map { Figure(value: $0.params, text: NumberFormat.scaled($0.params), bar: $0.params) }
    macs = analysis.costs.nodes.map { Figure(value: $0.macs, text: NumberFormat.scaled($0.macs), bar: $0.macs) }
    hidden = analysis.graph.nodes.map(\.attributes.elidedShortcut)
    let text = TableFormat.render(report)
    title = text.split(separator: "\n").first.map(String.init) ?? analysis.graph.name
    summary = Self.summaryLines(text)
    totalParams = analysis.costs.total.params
    totalMacs = analysis.costs.total.macs
  }

  init(_ analysis: SymbolicAnalysis, depth: Int?, storage: StorageType?) {
    var point: [String: Int] = [:]
    for v in analysis.graph.vars where analysis.free.contains(v.name) {
      switch v.domain {
      case .range(let r)?: point[v.name] = r.upperBound
      case .list(let l)?: point[v.name] = l.max()
      case nil: break
      }
    }
    let at = point.count == analysis.free.count ? point : nil
    func evaluated(_ e: SymExpr?) -> Int? { at.flatMap { try? e?.evaluate($0) } }
    func figure(_ e: SymExpr?) -> Figure {
      Figure(value: e?.constant, text: SymbolicFormat.text(e), expr: e, bar: e?.constant ?? evaluated(e))
    }
    shape = analysis.nodes.map { SymbolicFormat.shape($0.shape) }
    params = analysis.nodes.map { figure($0.params) }
    macs = analysis.nodes.map { figure($0.macs) }
    hidden = zip(analysis.graph.nodes, analysis.nodes).map { node, s in
      node.attributes.shortcutTarget != nil && s.params == .const(0) && s.shape != nil
    }
    let text = SymbolicFormat.table(analysis, maxDepth: depth, storage: storage)
    title = text.split(separator: "\n").first.map(String.init) ?? analysis.graph.name
    summary = Self.summaryLines(text)
    totalParams = evaluated(analysis.totals.params)
    totalMacs = evaluated(analysis.totals.macs)
    if let at {
      barPoint = analysis.free.map { ($0, at[$0]!) }
      summary.append(
        "note: bars show each layer's share at "
          + barPoint.map { "\($0.name) = \(NumberFormat.grouped($0.value))" }.joined(separator: ", ")
          + " (the top of \(barPoint.count == 1 ? "its range" : "their ranges"))")
    }
  }

  /// The lines after the table: `total ...` and `note: ...`.
  static func summaryLines(_ text: String) -> [String] {
    text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("total ") || $0.hasPrefix("note: ") }
  }

  /// The sum of a run of nodes' figures: a folded structure's.
  func sum(_ figures: [Figure], _ ids: ClosedRange<Int>) -> Figure {
    var total = 0
    for id in ids {
      guard let v = figures[id].value else { return sumExpressions(figures, ids) }
      let (s, o) = total.addingReportingOverflow(v)
      guard !o else { return Figure(value: nil, text: "more than 2^63", bar: nil) }
      total = s
    }
    return Figure(value: total, text: NumberFormat.scaled(total), bar: total)
  }

  /// The sum of the bars' values, nil where one is unknown or the sum overflows.
  private func barSum(_ figures: [Figure], _ ids: ClosedRange<Int>) -> Int? {
    var total = 0
    for id in ids {
      guard let v = figures[id].bar else { return nil }
      let (s, o) = total.addingReportingOverflow(v)
      guard !o else { return nil }
      total = s
    }
    return total
  }

  /// The sum as an expression in the free vars.
  private func sumExpressions(_ figures: [Figure], _ ids: ClosedRange<Int>) -> Figure {
    var total: SymExpr = .const(0)
    for id in ids {
      guard let e = figures[id].expr ?? figures[id].value.map(SymExpr.const) else { return Figure(value: nil, text: "?", bar: nil) }
      total = .add(total, e)
    }
    let simple = total.simplified
    return Figure(value: simple.constant, text: SymbolicFormat.text(simple), expr: simple, bar: barSum(figures, ids))
  }
}
