import NetcDiagnostics
import NetcIR

/// Reads shapes: `32x32x3`, `66 x 66 x _`, `${n}x10`, `[32, 32, 3]`, `784`.
enum ShapeSyntax {
  /// The extents of a shape written as a string, each with its own range.
  static func split(_ text: String, at range: SourceRange) throws(DiagnosticError) -> [ValueItem] {
    let s = Array(text.unicodeScalars)
    var items: [ValueItem] = []
    var start = 0
    var depth = 0
    func flush(_ end: Int) throws(DiagnosticError) {
      var a = start
      var b = end
      while a < b, s[a] == " " { a += 1 }
      while b > a, s[b - 1] == " " { b -= 1 }
      guard b > a else {
        throw DiagnosticError([
          .error(
            .shorthandSyntax, "expected an extent in the shape `\(text)`", at: range.slice(offset: min(a, max(0, s.count - 1)), length: 1))
        ])
      }
      items.append(ValueItem(text: String(String.UnicodeScalarView(s[a..<b])), range: range.slice(offset: a, length: b - a)))
    }
    var i = 0
    while i < s.count {
      if s[i] == "$", i + 1 < s.count, s[i + 1] == "{" { depth += 1 }
      if s[i] == "}" && depth > 0 { depth -= 1 }
      if depth == 0, s[i] == "x" || s[i] == "X" || s[i] == "×" {
        try flush(i)
        start = i + 1
      }
      i += 1
    }
    try flush(s.count)
    return items
  }

  /// The extents of a shape given as a YAML node (string, list or single integer).
  static func items(of node: YAMLNode, what: String) throws(DiagnosticError) -> [ValueItem] {
    switch node.kind {
    case .scalar(let text, _):
      let start = node.isPlainScalar || node.tag != nil ? node.range : node.range.slice(offset: 1, length: text.count)
      return try split(text, at: SourceRange(file: start.file, start: start.start, length: text.unicodeScalars.count))
    case .sequence(let list):
      guard !list.isEmpty else {
        throw DiagnosticError([.error(.invalidValue, "\(what) needs at least one extent", at: node.range)])
      }
      var out: [ValueItem] = []
      for item in list {
        guard let text = item.scalar else {
          throw DiagnosticError([.error(.wrongType, "expected an extent in \(what), found \(item.kindDescription)", at: item.range)])
        }
        out.append(ValueItem(text: text, range: item.range))
      }
      return out
    case .mapping:
      throw DiagnosticError([
        .error(.wrongType, "expected \(what) such as `32x32x3`, found a mapping", at: node.range)
      ])
    }
  }
}
