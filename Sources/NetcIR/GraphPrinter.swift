/// A deterministic text dump of a graph, one node a line, for golden tests and
/// `--print-ir`: `%4 = conv(%3) kernel=3 filters=20 stride=3 pad=2:2  "conv2"  @7:5`.
public enum GraphPrinter {
  /// The graph as text; `shapes`, when given, are appended to each node as `: 6x6x20`.
  public static func print(_ graph: Graph, shapes: [[Int]]? = nil) -> String {
    var out = "graph \"\(graph.name)\" input \(graph.inputShape.map(\.description).joined(separator: "x"))\n"
    for v in graph.vars {
      out += "var \(v.name)"
      switch v.domain {
      case .range(let r)?: out += " in \(r.lowerBound)..\(r.upperBound)"
      case .list(let l)?: out += " in {\(l.map(String.init).joined(separator: ", "))}"
      case nil: out += " (default domain)"
      }
      out += "\n"
    }
    for node in graph.nodes.dropFirst() {
      var line = "%\(node.id) = \(node.op.mnemonic)(\(node.inputs.map { "%\($0)" }.joined(separator: ", ")))"
      line += attributes(node)
      if let shapes { line += " : " + shapes[node.id].map(String.init).joined(separator: "x") }
      line += "  \"\(node.name)\"  @\(node.range.start)"
      out += line + "\n"
    }
    for c in graph.conditions { out += "where \(c.lhs) \(c.relation.rawValue) \(c.rhs)\n" }
    if let o = graph.outputExpect { out += "output \(o)\n" }
    return out
  }

  private static func attributes(_ node: Node) -> String {
    let a = node.attributes
    func list(_ v: [SymValue]) -> String { v.map(\.description).joined(separator: ",") }
    var parts: [String] = []
    if !a.kernel.isEmpty { parts.append("kernel=\(list(a.kernel))") }
    if let c = a.count { parts.append("count=\(c)") }
    if !a.stride.isEmpty { parts.append("stride=\(list(a.stride))") }
    switch a.padding {
    case .same: parts.append("pad=same")
    case .explicit(let b, let e) where !b.isEmpty:
      parts.append("pad=" + zip(b, e).map { "\($0):\($1)" }.joined(separator: ","))
    default: break
    }
    if !a.dilation.isEmpty { parts.append("dilation=\(list(a.dilation))") }
    if let g = a.groups { parts.append("groups=\(g)") }
    if node.op.definition.parameters.contains(where: \.onlyWithBias) && !a.bias { parts.append("bias=false") }
    if node.op.isPool && a.rounding == .ceil { parts.append("round=ceil") }
    if let t = a.shortcutTarget { parts.append("match=%\(t)") }
    if let e = node.expect { parts.append("expect=\(e)") }
    return parts.isEmpty ? "" : " " + parts.joined(separator: " ")
  }
}
