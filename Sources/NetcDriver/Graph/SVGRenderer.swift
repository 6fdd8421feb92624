import NetcIR

/// The picture as SVG: frames for structures, boxes for layers coloured by family with
/// their params and MACs and a bar for each's share, edges with the tensor's shape.
struct SVGRenderer {
  let graph: Graph
  let layout: GraphLayout
  let figures: GraphFigures
  /// Prefixes every id, so two pictures can share one HTML page.
  var idPrefix = ""
  /// Boxes to mark as differing from the other spec of a comparison.
  var marked: Set<Int> = []

  static let style = """
    .netc-graph text{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;fill:#222}
    .netc-graph .name{font-size:12px;font-weight:bold}
    .netc-graph .op{font-size:11px;fill:#444}
    .netc-graph .fig{font-size:10px;fill:#333}
    .netc-graph .shape{font-size:10px;fill:#555}
    .netc-graph .frame{font-size:11px;fill:#555;font-style:italic}
    .netc-graph .copies{font-size:12px;font-weight:bold;fill:#a33}
    .netc-graph .box{stroke:#777;stroke-width:1}
    .netc-graph .folded .box{stroke:#555;stroke-width:1.5;stroke-dasharray:5 2}
    .netc-graph .marked .box{stroke:#d97700;stroke-width:3}
    .netc-graph .structure rect{fill:#fafafa;stroke:#aaa;stroke-width:1}
    .netc-graph .k-repeat>rect{stroke:#a33;stroke-dasharray:6 3}
    .netc-graph .k-residual>rect,.netc-graph .k-parallel>rect{fill:#f6f8fb}
    .netc-graph .edge{fill:none;stroke:#666;stroke-width:1.2}
    .netc-graph .track{fill:#e4e4e4}
    .netc-graph .macs{fill:#c0392b}
    .netc-graph .params{fill:#2c6fb7}
    .netc-graph .node:target .box{stroke:#e00;stroke-width:3}
    """

  func render(standalone: Bool) -> String {
    var out = ""
    out.reserveCapacity(layout.boxes.count * 700)
    let (w, h) = (layout.width, layout.height)
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"netc-graph\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\">\n"
    out += "<title>\(GraphText.escape(graph.name))</title>\n"
    if standalone { out += "<style>\n\(Self.style)\n</style>\n" }
    out +=
      "<defs><marker id=\"\(idPrefix)arrow\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0 0L8 4L0 8z\" fill=\"#666\"/></marker></defs>\n"
    for (i, box) in layout.boxes.enumerated() {
      if case .structure(let g) = box.kind { structure(&out, i, box, layout.groups[g]) }
    }
    for edge in layout.edges {
      out += "<path class=\"edge\" d=\"\(edge.path)\" marker-end=\"url(#\(idPrefix)arrow)\"/>\n"
    }
    for (i, box) in layout.boxes.enumerated() {
      switch box.kind {
      case .layer(let id): layer(&out, i, box, graph.nodes[id])
      case .folded(let g): folded(&out, i, box, layout.groups[g])
      case .structure: break
      }
    }
    for label in layout.labels {
      out += "<text class=\"shape\" x=\"\(label.x)\" y=\"\(label.y)\">\(GraphText.escape(shape(of: label.box)))</text>\n"
    }
    out += "</svg>\n"
    return out
  }

  /// The shape of the tensor a box sends on: its last node's.
  func shape(of box: Int) -> String {
    switch layout.boxes[box].kind {
    case .layer(let id): return figures.shape[id]
    case .folded(let g), .structure(let g): return figures.shape[layout.groups[g].nodes.upperBound]
    }
  }

  /// The id of box `i` in the document.
  func elementID(_ i: Int) -> String {
    switch layout.boxes[i].kind {
    case .layer(let id): return "\(idPrefix)n\(id)"
    case .folded(let g), .structure(let g):
      return "\(idPrefix)g\(layout.groups[g].nodes.lowerBound)-\(layout.groups[g].nodes.upperBound)-\(layout.groups[g].depth)"
    }
  }

  func structure(_ out: inout String, _ i: Int, _ box: GraphLayout.Box, _ group: Group) {
    out +=
      "<g class=\"structure k-\(group.kind.rawValue)\" id=\"\(elementID(i))\"><title>\(GraphText.escape(group.name)) (\(group.kind.rawValue))</title>"
    out += "<rect x=\"\(box.x)\" y=\"\(box.y)\" width=\"\(box.width)\" height=\"\(box.height)\" rx=\"6\"/>"
    let label = GraphText.structureLabel(group, copies: nil)
    out += "<text class=\"frame\" x=\"\(box.x + 6)\" y=\"\(box.y + 14)\">\(GraphText.escape(label))</text>"
    if let copies = box.copies {
      out += "<text class=\"copies\" x=\"\(box.x + box.width - 6)\" y=\"\(box.y + 15)\" text-anchor=\"end\">× \(copies)</text>"
    }
    out += "</g>\n"
  }

  func layer(_ out: inout String, _ i: Int, _ box: GraphLayout.Box, _ node: Node) {
    let family = OpFamily(node.op)
    let name = node.id == 0 ? "input" : node.name.split(separator: ".").last.map(String.init) ?? node.name
    var tip = "\(node.id == 0 ? "input" : node.name): \(node.op.mnemonic), output \(figures.shape[node.id])"
    tip += ", \(figures.params[node.id].text) params, \(figures.macs[node.id].text) MACs, line \(node.range.start.line)"
    let numbers =
      node.id == 0
      ? figures.shape[0]
      : "\(figures.params[node.id].text) params · \(figures.macs[node.id].text) MACs"
    nodeBox(
      &out, i, box, classes: "node f-\(family.rawValue)", fill: family.fill, tip: tip, name: name,
      op: node.id == 0 ? "" : node.op.mnemonic, numbers: numbers, params: figures.params[node.id].bar,
      macs: figures.macs[node.id].bar)
  }

  func folded(_ out: inout String, _ i: Int, _ box: GraphLayout.Box, _ group: Group) {
    let params = figures.sum(figures.params, group.nodes), macs = figures.sum(figures.macs, group.nodes)
    let local = group.name.split(separator: ".").last.map(String.init) ?? group.name
    let kind = group.kind.rawValue + (box.copies.map { " × \($0)" } ?? "")
    let tip = "\(group.name): \(kind) of \(group.nodes.count) layers, output \(shape(of: i)), \(params.text) params, \(macs.text) MACs"
    nodeBox(
      &out, i, box, classes: "node folded", fill: "#ffffff", tip: tip, name: local, op: kind,
      numbers: "\(params.text) params · \(macs.text) MACs", params: params.bar, macs: macs.bar)
  }

  func nodeBox(
    _ out: inout String, _ i: Int, _ box: GraphLayout.Box, classes: String, fill: String, tip: String, name: String,
    op: String, numbers: String, params: Int?, macs: Int?
  ) {
    let cls = marked.contains(i) ? classes + " marked" : classes
    out += "<g class=\"\(cls)\" id=\"\(elementID(i))\"><title>\(GraphText.escape(tip))</title>"
    out += "<rect class=\"box\" x=\"\(box.x)\" y=\"\(box.y)\" width=\"\(box.width)\" height=\"\(box.height)\" rx=\"4\" fill=\"\(fill)\"/>"
    let opWidth = GraphText.width(op, size: 11)
    let room = (box.width - 20 - opWidth) * 100 / (12 * 66)
    out += "<text class=\"name\" x=\"\(box.x + 8)\" y=\"\(box.y + 16)\">\(GraphText.escape(GraphText.clip(name, room)))</text>"
    if !op.isEmpty {
      out += "<text class=\"op\" x=\"\(box.x + box.width - 8)\" y=\"\(box.y + 16)\" text-anchor=\"end\">\(GraphText.escape(op))</text>"
    }
    out += "<text class=\"fig\" x=\"\(box.x + 8)\" y=\"\(box.y + 31)\">\(GraphText.escape(GraphText.clip(numbers, 36)))</text>"
    // Two bars: the share of all MACs (red) and of all params (blue).
    let track = box.width - 16
    for (k, (value, total, cls)) in [(macs, figures.totalMacs, "macs"), (params, figures.totalParams, "params")].enumerated() {
      let y = box.y + 37 + k * 6
      out += "<rect class=\"track\" x=\"\(box.x + 8)\" y=\"\(y)\" width=\"\(track)\" height=\"4\"/>"
      if let value, let total, total > 0, value > 0 {
        let w = max(1, Int((Double(value) / Double(total) * Double(track)).rounded()))
        out += "<rect class=\"\(cls)\" x=\"\(box.x + 8)\" y=\"\(y)\" width=\"\(w)\" height=\"4\"/>"
      }
    }
    out += "</g>\n"
  }
}
