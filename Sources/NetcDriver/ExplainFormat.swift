import NetcIR
import NetcPasses

/// `analyze --explain`: each layer's figures with their formulas and the layer's numbers,
/// in the notation of a course, and the totals as sums of the layers'.
enum ExplainFormat {
  /// The layers `selection` names (all when empty): a name, or a structure's dotted prefix.
  static func selected(_ graph: Graph, _ selection: [String]) -> [Node] {
    // A named input's node (`from: tgt`) has no working: listed only when asked for.
    graph.nodes.dropFirst().filter { node in
      selection.isEmpty ? node.op != .input : selection.contains { node.name == $0 || node.name.hasPrefix($0 + ".") }
    }
  }

  /// The working as text.
  static func table(_ analysis: Analysis, selection: [String]) -> String {
    let g = analysis.graph, shapes = analysis.shapes
    var lines = ["\(g.name): the working of \(selection.isEmpty ? "every layer" : "the layers asked for"), for one example", ""]
    for node in selected(g, selection) {
      let input = node.inputs.map { formatShape(shapes.nodes[$0].shape) }.joined(separator: " and ")
      lines += layerLines(
        node, input: input, output: formatShape(shapes.nodes[node.id].shape), layerWorking(g, shapes, node: node.id)
      ) { NumberFormat.grouped($0 ?? 0) }
    }
    if selection.isEmpty {
      lines.append("")
      for figure in [Figure.params, .macs] {
        let parts = g.nodes.compactMap { node -> Int? in
          let c = analysis.costs.nodes[node.id]
          let v = figure == .params ? c.params : c.macs
          return v == 0 ? nil : v
        }
        let total = figure == .params ? analysis.costs.total.params : analysis.costs.total.macs
        let sum = parts.count > 1 && parts.count <= 12 ? parts.map(NumberFormat.grouped).joined(separator: " + ") + " = " : ""
        lines.append("total \(figure.title) = \(sum)\(NumberFormat.grouped(total))")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The working with vars free: the same formulas, each value an expression in them.
  static func symbolicTable(_ analysis: SymbolicAnalysis, selection: [String]) -> String {
    let g = analysis.graph
    var lines = [
      "\(g.name): the working of \(selection.isEmpty ? "every layer" : "the layers asked for"), for one example, "
        + "in \(analysis.free.joined(separator: ", "))",
      "",
    ]
    for node in selected(g, selection) {
      let input = node.inputs.map { SymbolicFormat.shape(analysis.nodes[$0].shape) }.joined(separator: " and ")
      guard let w = symbolicLayerWorking(analysis, node: node.id) else {
        lines.append("\(node.name) (\(node.op.rawValue), line \(node.range.start.line)): \(input) -> ?")
        lines.append("  \(unknownRemark(analysis, node))")
        continue
      }
      lines += layerLines(node, input: input, output: SymbolicFormat.shape(analysis.nodes[node.id].shape), w) {
        SymbolicFormat.text($0)
      }
    }
    if selection.isEmpty {
      lines.append("")
      for figure in [Figure.params, .macs] {
        let figures = analysis.nodes.map { figure == .params ? $0.params : $0.macs }
        let parts = figures.compactMap { $0 }.filter { $0.constant != 0 }
        let total = figure == .params ? analysis.totals.params : analysis.totals.macs
        // A layer without an expression leaves the total unknown: no sum to write out.
        let sum =
          parts.count > 1 && parts.count <= 12 && !figures.contains(where: { $0 == nil })
          ? parts.map { SymbolicFormat.grouped($0.factorText) }.joined(separator: " + ") + " = " : ""
        lines.append("total \(figure.title) = \(sum)\(SymbolicFormat.text(total))")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Why a layer has no working in the vars: the analysis keeps no exact expression.
  static func unknownRemark(_ analysis: SymbolicAnalysis, _ node: Node) -> String {
    let earlier = node.inputs.contains { analysis.nodes[$0].shape == nil }
    if earlier { return "its input's shape has no exact expression in the vars: bind them with --set to see the working" }
    return "its shape has no exact expression in the vars (ceil rounding, or `same` padding of a var extent): "
      + "bind them with --set to see the working"
  }

  /// One layer's lines: the heading, each output extent, each figure as formula, the
  /// layer's numbers and the value; a sum of three or more kinds of term also term by term.
  static func layerLines<N: RuleNumber>(
    _ node: Node, input: String, output: String, _ w: LayerWorkingOf<N>, value valueText: (N?) -> String
  ) -> [String] {
    var lines = ["\(node.name) (\(node.op.rawValue), line \(node.range.start.line)): \(input) -> \(output)"]
    let byArithmetic = Set(w.extents.map(\.arithmetic))
    if !w.extents.isEmpty {
      let first = w.extents[0]
      if byArithmetic.count == 1 && w.extents.count > 1 {
        lines.append("  \(w.extents.map(\.axis).joined(separator: ", ")) = \(first.arithmetic)")
      } else {
        for e in w.extents { lines.append("  \(e.axis) = \(e.arithmetic)") }
      }
    }
    for f in w.figures {
      let name = f.figure.title
      let value = valueText(f.value)
      if f.terms.count == 1 && f.terms[0].factors.count == 1 && N.self == Int.self {
        lines.append("  \(name) = \(value)")
      } else if f.terms.count == 1 && f.terms[0].factors.count == 1 {
        lines.append(f.formula == value ? "  \(name) = \(value)" : "  \(name) = \(f.formula) = \(value)")
      } else if f.formula == f.arithmetic || f.figure == .activations {
        lines.append("  \(name) = \(f.arithmetic) = \(value)")
      } else {
        lines.append("  \(name) = \(f.formula)")
        lines.append("  \(String(repeating: " ", count: name.count)) = \(f.arithmetic) = \(value)")
      }
      if f.terms.count >= 3 {
        for t in f.labelledTerms {
          let value = valueText(t.value)
          lines.append("    \(t.meaning): \(t.arithmetic == value ? value : "\(t.arithmetic) = \(value)")")
        }
      }
      if let remark = f.remark { lines.append("    (\(remark))") }
    }
    if let remark = w.remark { lines.append("  \(remark)") }
    return lines
  }

  /// The working as JSON: per layer, the extents and figures with formula, arithmetic and value.
  static func json(_ analysis: Analysis, selection: [String]) -> String {
    let g = analysis.graph, shapes = analysis.shapes
    var j = JSONWriter()
    j.raw("{\"name\": ")
    j.string(g.name)
    j.raw(", \"layers\": [")
    for (i, node) in selected(g, selection).enumerated() {
      j.raw(i == 0 ? "\n  " : ",\n  ")
      layerJSON(&j, node, layerWorking(g, shapes, node: node.id)) { j in
        j.array(shapes.nodes[node.id].shape)
      } value: { j, v in
        j.int(v ?? 0)
      }
    }
    j.raw("\n]}")
    return String(decoding: j.bytes, as: UTF8.self)
  }

  /// The working with vars free as JSON: values are numbers where constant, else netc's
  /// expression syntax as strings (`960*k*k + 96`), as `analyze --format json` writes them.
  static func symbolicJSON(_ analysis: SymbolicAnalysis, selection: [String]) -> String {
    let g = analysis.graph
    func write(_ j: inout JSONWriter, _ e: SymExpr?) {
      guard let e else { return j.raw("null") }
      if let c = e.constant { j.int(c) } else { j.string(e.simplified.description) }
    }
    var j = JSONWriter()
    j.raw("{\"name\": ")
    j.string(g.name)
    j.raw(", \"free\": [")
    for (i, v) in analysis.free.enumerated() {
      if i > 0 { j.raw(", ") }
      j.string(v)
    }
    j.raw("], \"layers\": [")
    for (i, node) in selected(g, selection).enumerated() {
      j.raw(i == 0 ? "\n  " : ",\n  ")
      let w =
        symbolicLayerWorking(analysis, node: node.id)
        ?? LayerWorkingOf(node: node.id, extents: [], figures: [], remark: unknownRemark(analysis, node))
      layerJSON(&j, node, w) { j in
        guard let shape = analysis.nodes[node.id].shape else { return j.raw("null") }
        j.raw("[")
        for (k, e) in shape.enumerated() {
          if k > 0 { j.raw(", ") }
          write(&j, e)
        }
        j.raw("]")
      } value: { j, v in
        write(&j, v)
      }
    }
    j.raw("\n]}")
    return String(decoding: j.bytes, as: UTF8.self)
  }

  /// One layer's object: name, op, line, output, extents and figures (with their terms
  /// when a figure sums three or more kinds), and the remark.
  static func layerJSON<N: RuleNumber>(
    _ j: inout JSONWriter, _ node: Node, _ w: LayerWorkingOf<N>, output: (inout JSONWriter) -> Void,
    value: (inout JSONWriter, N?) -> Void
  ) {
    j.raw("{\"name\": ")
    j.string(node.name)
    j.raw(", \"op\": ")
    j.string(node.op.rawValue)
    j.raw(", \"line\": ")
    j.int(node.range.start.line)
    j.raw(", \"output\": ")
    output(&j)
    j.raw(", \"extents\": [")
    for (k, e) in w.extents.enumerated() {
      j.raw(k == 0 ? "{\"axis\": " : ", {\"axis\": ")
      j.string(e.axis)
      j.raw(", \"formula\": ")
      j.string(e.formula)
      j.raw(", \"arithmetic\": ")
      j.string(e.arithmetic)
      j.raw(", \"value\": ")
      value(&j, e.value)
      j.raw("}")
    }
    j.raw("], \"figures\": [")
    for (k, f) in w.figures.enumerated() {
      j.raw(k == 0 ? "{\"figure\": " : ", {\"figure\": ")
      j.string(f.figure.rawValue)
      j.raw(", \"formula\": ")
      j.string(f.formula)
      j.raw(", \"arithmetic\": ")
      j.string(f.arithmetic)
      j.raw(", \"value\": ")
      value(&j, f.value)
      if f.terms.count >= 3 {
        j.raw(", \"terms\": [")
        for (t, term) in f.labelledTerms.enumerated() {
          j.raw(t == 0 ? "{\"counts\": " : ", {\"counts\": ")
          j.string(term.meaning)
          j.raw(", \"arithmetic\": ")
          j.string(term.arithmetic)
          j.raw(", \"value\": ")
          value(&j, term.value)
          j.raw("}")
        }
        j.raw("]")
      }
      if let remark = f.remark {
        j.raw(", \"remark\": ")
        j.string(remark)
      }
      j.raw("}")
    }
    j.raw("]")
    if let remark = w.remark {
      j.raw(", \"remark\": ")
      j.string(remark)
    }
    j.raw("}")
  }
}
