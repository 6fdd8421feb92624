import NetcIR

/// One spec's picture with what `analyze` says about it, ready for a page.
struct GraphSheet {
  var graph: Graph
  var figures: GraphFigures
  var layout: GraphLayout
  /// The picture with every copy of every repeat drawn, when it is small enough to hold.
  var expanded: GraphLayout?
  /// The spec's warnings, rendered with their line and column.
  var diagnostics: String
  var depth: Int?
}

/// The self-contained HTML report: inline SVG and CSS, no script, nothing from the
/// network; it opens from disk and prints. A table row links to its box (`:target`
/// highlights it), so no script is needed for the highlight either.
enum HTMLRenderer {
  static let style = """
    body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:16px;color:#222;font-size:13px}
    h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:14px 0 6px}
    .main{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
    .picture{overflow:auto;max-height:92vh;border:1px solid #ddd;flex:none;max-width:100%}
    .side{flex:1;min-width:380px}
    pre{font-size:12px;background:#f7f7f7;padding:6px;white-space:pre-wrap}
    table{border-collapse:collapse;font-size:12px}
    td,th{padding:1px 6px;text-align:left;white-space:nowrap}
    td.n{text-align:right;font-variant-numeric:tabular-nums}
    tr:target{background:#ffe9a8}
    tr.group td{color:#555;font-style:italic}
    a{color:#1a4f8a;text-decoration:none}
    .legend span{display:inline-block;margin-right:10px}
    .legend i{display:inline-block;width:10px;height:10px;border:1px solid #888;margin-right:3px}
    .compare{display:flex;gap:18px;align-items:flex-start}
    .compare>div{flex:1;min-width:0}.compare .picture{max-width:100%}
    .netc-graph .structure:target>rect{stroke:#e00;stroke-width:3}
    @media print{.picture{max-height:none;max-width:none;overflow:visible;border:none}.main,.compare{display:block}}
    """

  static func page(_ sheet: GraphSheet) -> String {
    var out = head(sheet.graph.name)
    out += "<h1>\(GraphText.escape(sheet.graph.name))</h1>\n<p>\(GraphText.escape(sheet.figures.title))</p>\n" + legend()
    out += "<div class=\"main\">\n<div class=\"picture\">\n"
    out += SVGRenderer(graph: sheet.graph, layout: sheet.layout, figures: sheet.figures).render(standalone: false)
    out += "</div>\n<div class=\"side\">\n" + summary(sheet) + table(sheet, prefix: "") + "</div>\n</div>\n"
    if let expanded = sheet.expanded {
      out += "<details><summary>Every copy of every repeat drawn</summary>\n<div class=\"picture\">\n"
      out += SVGRenderer(graph: sheet.graph, layout: expanded, figures: sheet.figures, idPrefix: "x-").render(standalone: false)
      out += "</div>\n</details>\n"
    }
    return out + "</body>\n</html>\n"
  }

  /// Two sheets side by side; boxes with no like-named equal box in the other are marked.
  static func comparePage(_ a: GraphSheet, _ b: GraphSheet, totals: String?) -> String {
    var out = head("\(a.graph.name) vs \(b.graph.name)")
    out += "<h1>\(GraphText.escape(a.graph.name)) vs \(GraphText.escape(b.graph.name))</h1>\n" + legend()
    out += "<p>An orange outline marks a box the other spec has not, or has with another op, shape or figures.</p>\n"
    if let totals { out += "<pre>\(GraphText.escape(totals))</pre>\n" }
    let (markA, markB) = (differing(a, from: b), differing(b, from: a))
    out += "<div class=\"compare\">\n"
    for (sheet, marks, prefix) in [(a, markA, "a-"), (b, markB, "b-")] {
      out +=
        "<div>\n<h2>\(GraphText.escape(sheet.graph.name)) (\(marks.count) marked)</h2>\n<p>\(GraphText.escape(sheet.figures.title))</p>\n"
      out += summary(sheet) + "<div class=\"picture\">\n"
      out += SVGRenderer(graph: sheet.graph, layout: sheet.layout, figures: sheet.figures, idPrefix: prefix, marked: marks)
        .render(standalone: false)
      out += "</div>\n</div>\n"
    }
    return out + "</div>\n</body>\n</html>\n"
  }

  static func head(_ title: String) -> String {
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>netc graph: \(GraphText.escape(title))</title>\n"
      + "<style>\n\(style)\n\(SVGRenderer.style)\n</style>\n</head>\n<body>\n"
  }

  static func legend() -> String {
    "<p class=\"legend\">"
      + OpFamily.allCases.map { "<span><i style=\"background:\($0.fill)\"></i>\(GraphText.escape($0.title))</span>" }.joined()
      + "<span>bars: <b style=\"color:#c0392b\">share of MACs</b>, <b style=\"color:#2c6fb7\">share of params</b></span></p>\n"
  }

  static func summary(_ sheet: GraphSheet) -> String {
    var out = "<h2>Totals</h2>\n<pre>\(GraphText.escape(sheet.figures.summary.joined(separator: "\n")))</pre>\n"
    if !sheet.diagnostics.isEmpty {
      out += "<h2>Diagnostics</h2>\n<pre>\(GraphText.escape(sheet.diagnostics))</pre>\n"
    }
    return out
  }

  /// `analyze`'s table at the picture's depth: every layer (every copy of a repeat), each
  /// linking to the box that stands for it.
  static func table(_ sheet: GraphSheet, prefix: String) -> String {
    let svg = SVGRenderer(graph: sheet.graph, layout: sheet.layout, figures: sheet.figures, idPrefix: prefix)
    let f = sheet.figures, layout = sheet.layout, groups = layout.groups
    let maxDepth = sheet.depth ?? Int.max
    var out = "<h2>Layers</h2>\n<table>\n<tr><th>layer</th><th>op</th><th>output</th><th>params</th><th>MACs</th><th>MACs %</th></tr>\n"
    func row(
      _ rowID: String, _ box: Int, _ name: String, depth: Int, op: String, shape: String, _ p: GraphFigures.Figure,
      _ m: GraphFigures.Figure, group: Bool
    ) {
      let share = m.bar.flatMap { v in f.totalMacs.map { NumberFormat.percent(v, of: $0) } } ?? ""
      let pad = String(repeating: "&#160;&#160;", count: depth)
      let target = box >= 0 ? "<a href=\"#\(svg.elementID(box))\">\(GraphText.escape(name))</a>" : GraphText.escape(name)
      out += "<tr id=\"r\(rowID)\"\(group ? " class=\"group\"" : "")><td>\(pad)\(target)</td><td>\(GraphText.escape(op))</td>"
      out += "<td>\(GraphText.escape(shape))</td><td class=\"n\">\(GraphText.escape(p.value == 0 ? "-" : p.text))</td>"
      out += "<td class=\"n\">\(GraphText.escape(m.value == 0 ? "-" : m.text))</td><td class=\"n\">\(m.value == 0 ? "" : share)</td></tr>\n"
    }
    var next = 0, id = 1
    while id < sheet.graph.nodes.count {
      var skipTo: Int?
      while next < groups.count, groups[next].nodes.lowerBound < id { next += 1 }
      while next < groups.count, groups[next].nodes.lowerBound == id {
        let g = next, group = groups[g]
        next += 1
        guard group.depth <= maxDepth, !group.nodes.allSatisfy({ f.hidden[$0] }) else { continue }
        let box = layout.groupBox[g] >= 0 ? layout.groupBox[g] : layout.nodeBox[group.nodes.lowerBound]
        row(
          "g\(g)", box, group.name.split(separator: ".").last.map(String.init) ?? group.name, depth: group.depth,
          op: group.kind.rawValue, shape: f.shape[group.nodes.upperBound], f.sum(f.params, group.nodes), f.sum(f.macs, group.nodes),
          group: group.depth != maxDepth)
        if group.depth == maxDepth {
          skipTo = group.nodes.upperBound + 1
          break
        }
      }
      if let skipTo {
        id = skipTo
        continue
      }
      let node = sheet.graph.nodes[id]
      if !f.hidden[id] && node.depth <= maxDepth {
        row(
          "n\(id)", layout.nodeBox[id], node.name.split(separator: ".").last.map(String.init) ?? node.name, depth: node.depth,
          op: node.op.mnemonic, shape: f.shape[id], f.params[id], f.macs[id], group: false)
      }
      id += 1
    }
    return out + "</table>\n"
  }

  /// The boxes of `a` with no box of `b` of the same name, op, shape and figures.
  static func differing(_ a: GraphSheet, from b: GraphSheet) -> Set<Int> {
    let keysB = Set(b.layout.boxes.indices.map { signature(b, $0) })
    // Frames are not outlined: their layers are.
    return Set(
      a.layout.boxes.indices.filter {
        if case .structure = a.layout.boxes[$0].kind { return false }
        return !keysB.contains(signature(a, $0))
      })
  }

  static func signature(_ s: GraphSheet, _ i: Int) -> String {
    let svg = SVGRenderer(graph: s.graph, layout: s.layout, figures: s.figures)
    switch s.layout.boxes[i].kind {
    case .layer(let id):
      let node = s.graph.nodes[id]
      return
        "\(id == 0 ? "input" : node.name)|\(node.op.mnemonic)|\(svg.shape(of: i))|\(s.figures.params[id].text)|\(s.figures.macs[id].text)"
    case .folded(let g), .structure(let g):
      let group = s.layout.groups[g]
      return
        "\(group.name)|\(group.kind.rawValue)|\(svg.shape(of: i))|\(s.figures.sum(s.figures.params, group.nodes).text)|\(s.layout.boxes[i].copies ?? 0)"
    }
  }
}
