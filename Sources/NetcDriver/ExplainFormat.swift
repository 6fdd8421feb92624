import NetcIR
import NetcPasses

/// `analyze --explain`: each layer's figures with their formulas and the layer's numbers,
/// in the notation of a course, and the totals as sums of the layers'.
enum ExplainFormat {
  /// The layers `selection` names (all when empty): a name, or a structure's dotted prefix.
  static func selected(_ analysis: Analysis, _ selection: [String]) -> [Node] {
    analysis.graph.nodes.dropFirst().filter { node in
      selection.isEmpty || selection.contains { node.name == $0 || node.name.hasPrefix($0 + ".") }
    }
  }

  /// The working as text.
  static func table(_ analysis: Analysis, selection: [String]) -> String {
    let g = analysis.graph, shapes = analysis.shapes
    var lines = ["\(g.name): the working of \(selection.isEmpty ? "every layer" : "the layers asked for"), for one example", ""]
    for node in selected(analysis, selection) {
      let w = layerWorking(g, shapes, node: node.id)
      let input = node.inputs.map { formatShape(shapes.nodes[$0].shape) }.joined(separator: " and ")
      lines.append(
        "\(node.name) (\(node.op.rawValue), line \(node.range.start.line)): \(input) -> \(formatShape(shapes.nodes[node.id].shape))")
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
        let value = NumberFormat.grouped(f.value ?? 0)
        if f.terms.count == 1 && f.terms[0].factors.count == 1 {
          lines.append("  \(name) = \(value)")
        } else if f.formula == f.arithmetic || f.figure == .activations {
          lines.append("  \(name) = \(f.arithmetic) = \(value)")
        } else {
          lines.append("  \(name) = \(f.formula)")
          lines.append("  \(String(repeating: " ", count: name.count)) = \(f.arithmetic) = \(value)")
        }
        if let remark = f.remark { lines.append("    (\(remark))") }
      }
      if let remark = w.remark { lines.append("  \(remark)") }
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

  /// The working as JSON: per layer, the extents and figures with formula, arithmetic and value.
  static func json(_ analysis: Analysis, selection: [String]) -> String {
    let g = analysis.graph, shapes = analysis.shapes
    var j = JSONWriter()
    j.raw("{\"name\": ")
    j.string(g.name)
    j.raw(", \"layers\": [")
    for (i, node) in selected(analysis, selection).enumerated() {
      let w = layerWorking(g, shapes, node: node.id)
      j.raw(i == 0 ? "\n  {\"name\": " : ",\n  {\"name\": ")
      j.string(node.name)
      j.raw(", \"op\": ")
      j.string(node.op.rawValue)
      j.raw(", \"line\": ")
      j.int(node.range.start.line)
      j.raw(", \"output\": ")
      j.array(shapes.nodes[node.id].shape)
      j.raw(", \"extents\": [")
      for (k, e) in w.extents.enumerated() {
        j.raw(k == 0 ? "{\"axis\": " : ", {\"axis\": ")
        j.string(e.axis)
        j.raw(", \"formula\": ")
        j.string(e.formula)
        j.raw(", \"arithmetic\": ")
        j.string(e.arithmetic)
        j.raw(", \"value\": ")
        j.int(e.value)
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
        j.int(f.value ?? 0)
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
    j.raw("\n]}")
    return String(decoding: j.bytes, as: UTF8.self)
  }
}
