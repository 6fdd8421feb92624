/// Turns diagnostics into GitHub Actions workflow commands, which the runner shows as
/// annotations on the pull request's lines:
/// `::error file=net.yaml,line=7,col=5,endLine=7,endColumn=9,title=NS104::unknown layer kind`.
/// Notes follow the message on lines of their own, as `note: LINE:COL: text`.
public struct GitHubAnnotations: Sendable {
  /// Creates a renderer.
  public init() {}

  /// One workflow command per diagnostic, sorted by position, each ending in a newline.
  public func render(_ diagnostics: [Diagnostic]) -> String {
    diagnostics.sortedForDisplay().map(command).joined()
  }

  /// One diagnostic as a workflow command.
  public func command(_ d: Diagnostic) -> String {
    let kind: String
    switch d.severity {
    case .error: kind = "error"
    case .warning: kind = "warning"
    case .note: kind = "notice"
    }
    var properties: [String] = []
    if let r = d.range {
      properties.append("file=\(property(r.file))")
      properties.append("line=\(r.start.line)")
      properties.append("col=\(r.start.column)")
      // GitHub's end column is the last character's, not the one past it.
      properties.append("endLine=\(r.end.line)")
      properties.append(
        "endColumn=\(max(r.start.line == r.end.line ? r.start.column : 1, r.end.column - 1))")
    }
    properties.append("title=\(property("\(d.code.rawValue) \(d.severity.rawValue)"))")
    var text = d.message
    if let fix = d.fixIt {
      text += "\nnote: \(fix.range.start): write `\(fix.replacement)` instead"
    }
    for note in d.notes {
      let place =
        note.range.map { $0.file == d.range?.file ? "\($0.start): " : "\($0.file):\($0.start): " }
        ?? ""
      text += "\nnote: \(place)\(note.message)"
    }
    return "::\(kind) \(properties.joined(separator: ","))::\(data(text))\n"
  }

  /// A message, escaped as the runner expects: `%`, carriage return and newline.
  private func data(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
      switch c {
      case "%": out += "%25"
      case "\r": out += "%0D"
      case "\n": out += "%0A"
      default: out.unicodeScalars.append(c)
      }
    }
    return out
  }

  /// A property value, escaped as data and also for `:` and `,`, which separate properties.
  private func property(_ s: String) -> String {
    var out = ""
    for c in data(s).unicodeScalars {
      switch c {
      case ":": out += "%3A"
      case ",": out += "%2C"
      default: out.unicodeScalars.append(c)
      }
    }
    return out
  }
}
