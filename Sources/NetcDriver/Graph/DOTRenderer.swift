import NetcIR

/// The picture as Graphviz source, for people who lay out their own: the same boxes,
/// structures as nested clusters, edges labelled with the tensor's shape.
struct DOTRenderer {
  let graph: Graph
  let layout: GraphLayout
  let figures: GraphFigures

  func render() -> String {
    let svg = SVGRenderer(graph: graph, layout: layout, figures: figures)
    var out =
      "digraph \(quote(graph.name)) {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11];\n"
    out += "  edge [fontname=\"Helvetica\", fontsize=9];\n"
    // Boxes come frame first, then what it holds: a stack of open frames nests the clusters.
    var open: [ClosedRange<Int>] = []
    for (i, box) in layout.boxes.enumerated() {
      let first = firstNode(box)
      while let top = open.last, !top.contains(first) {
        open.removeLast()
        out += String(repeating: "  ", count: open.count + 1) + "}\n"
      }
      let indent = String(repeating: "  ", count: open.count + 1)
      switch box.kind {
      case .structure(let g):
        let group = layout.groups[g]
        out += indent + "subgraph \(quote("cluster_" + svg.elementID(i))) {\n"
        out += indent + "  label=\(quote(GraphText.structureLabel(group, copies: box.copies))); style=rounded; color=\"#999999\";\n"
        open.append(group.nodes)
      case .layer(let id):
        let node = graph.nodes[id]
        let label =
          id == 0
          ? "input\\n\(figures.shape[0])"
          : "\(node.name)\\n\(node.op.mnemonic)\\n\(figures.params[id].text) params, \(figures.macs[id].text) MACs"
        out += indent + "\(quote(svg.elementID(i))) [label=\(quote(label, raw: true)), fillcolor=\(quote(OpFamily(node.op).fill))];\n"
      case .folded(let g):
        let group = layout.groups[g]
        let p = figures.sum(figures.params, group.nodes), m = figures.sum(figures.macs, group.nodes)
        let label = "\(group.name)\\n\(group.kind.rawValue)\(box.copies.map { " × \($0)" } ?? "")\\n\(p.text) params, \(m.text) MACs"
        out +=
          indent
          + "\(quote(svg.elementID(i))) [label=\(quote(label, raw: true)), fillcolor=\"#ffffff\", style=\"rounded,dashed,filled\"];\n"
      }
    }
    while !open.isEmpty {
      open.removeLast()
      out += String(repeating: "  ", count: open.count + 1) + "}\n"
    }
    for edge in layout.edges {
      out += "  \(quote(svg.elementID(edge.from))) -> \(quote(svg.elementID(edge.to))) [label=\(quote(svg.shape(of: edge.from)))];\n"
    }
    return out + "}\n"
  }

  func firstNode(_ box: GraphLayout.Box) -> Int {
    switch box.kind {
    case .layer(let id): return id
    case .folded(let g), .structure(let g): return layout.groups[g].nodes.lowerBound
    }
  }

  /// A DOT string; with `raw`, `\n` escapes already in `s` are kept.
  func quote(_ s: String, raw: Bool = false) -> String {
    var out = "\""
    for c in s {
      switch c {
      case "\"": out += "\\\""
      case "\\": out += raw ? "\\" : "\\\\"
      case "\n": out += "\\n"
      default: out.append(c)
      }
    }
    return out + "\""
  }
}
