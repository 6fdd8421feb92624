import NetcIR
import NetcPasses

/// What a picture says about each node, from `analyze`'s results: numbers where every
/// var is bound, expressions in the free vars otherwise. Bars need numbers: a figure
/// that stays an expression gets none.
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
  /// The whole network's params and MACs, for the share bars.
  var totalParams: Int?, totalMacs: Int?

  /// One figure: its number when known, and its text.
  struct Figure {
    var value: Int?
    var text: String
    /// The expression, where vars are free.
    var expr: SymExpr? = nil
  }

  init(_ analysis: Analysis, report: Report) {
    let n = analysis.graph.nodes.count
    shape = (0..<n).map { TableFormat.shape(analysis.shapes[$0]) }
    params = analysis.costs.nodes.map { Figure(value: $0.params, text: NumberFormat.scaled($0.params)) }
    macs = analysis.costs.nodes.map { Figure(value: $0.macs, text: NumberFormat.scaled($0.macs)) }
    hidden = analysis.shapes.nodes.map(\.elided)
    let text = TableFormat.render(report)
    title = text.split(separator: "\n").first.map(String.init) ?? analysis.graph.name
    summary = Self.summaryLines(text)
    totalParams = analysis.costs.total.params
    totalMacs = analysis.costs.total.macs
  }

  init(_ analysis: SymbolicAnalysis, depth: Int?, storage: StorageType?) {
    func figure(_ e: SymExpr?) -> Figure { Figure(value: e?.constant, text: SymbolicFormat.text(e), expr: e) }
    shape = analysis.nodes.map { SymbolicFormat.shape($0.shape) }
    params = analysis.nodes.map { figure($0.params) }
    macs = analysis.nodes.map { figure($0.macs) }
    hidden = zip(analysis.graph.nodes, analysis.nodes).map { node, s in
      node.attributes.shortcutTarget != nil && s.params == .const(0) && s.shape != nil
    }
    let text = SymbolicFormat.table(analysis, maxDepth: depth, storage: storage)
    title = text.split(separator: "\n").first.map(String.init) ?? analysis.graph.name
    summary = Self.summaryLines(text)
    totalParams = analysis.totals.params?.constant
    totalMacs = analysis.totals.macs?.constant
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
      guard !o else { return Figure(value: nil, text: "more than 2^63") }
      total = s
    }
    return Figure(value: total, text: NumberFormat.scaled(total))
  }

  /// The sum as an expression in the free vars.
  private func sumExpressions(_ figures: [Figure], _ ids: ClosedRange<Int>) -> Figure {
    var total: SymExpr = .const(0)
    for id in ids {
      guard let e = figures[id].expr ?? figures[id].value.map(SymExpr.const) else { return Figure(value: nil, text: "?") }
      total = .add(total, e)
    }
    let simple = total.simplified
    return Figure(value: simple.constant, text: SymbolicFormat.text(simple), expr: simple)
  }
}
