/// Turns diagnostics into JSON for tools: an array of
/// `{file, line, column, endLine, endColumn, severity, code, message, notes}`, sorted by
/// position, one diagnostic per line. Lines and columns are 1-based, columns count Unicode
/// scalars, and `endColumn` is just past the last character; all are null for a diagnostic
/// about no place (a file that cannot be read). Each note is `{message, file, line, column,
/// endLine, endColumn}`; a fix-it comes as the note "write `...` instead".
public struct DiagnosticJSON: Sendable {
  /// Creates a renderer.
  public init() {}

  /// The diagnostics as one JSON array, ending in a newline.
  public func render(_ diagnostics: [Diagnostic]) -> String {
    let items = diagnostics.sortedForDisplay().map(object)
    return items.isEmpty ? "[]\n" : "[\n  " + items.joined(separator: ",\n  ") + "\n]\n"
  }

  /// One diagnostic as a JSON object on one line.
  public func object(_ d: Diagnostic) -> String {
    var notes = d.notes
    if let fix = d.fixIt {
      notes.insert(.init("write `\(fix.replacement)` instead", at: fix.range), at: 0)
    }
    let noteItems = notes.map { "{\"message\": \(jsonString($0.message)), \(place($0.range))}" }
    return
      "{\(place(d.range)), \"severity\": \(jsonString(d.severity.rawValue)), \"code\": \(jsonString(d.code.rawValue)), "
      + "\"message\": \(jsonString(d.message)), \"notes\": [\(noteItems.joined(separator: ", "))]}"
  }

  private func place(_ range: SourceRange?) -> String {
    guard let r = range else {
      return
        "\"file\": null, \"line\": null, \"column\": null, \"endLine\": null, \"endColumn\": null"
    }
    return
      "\"file\": \(jsonString(r.file)), \"line\": \(r.start.line), \"column\": \(r.start.column), "
      + "\"endLine\": \(r.end.line), \"endColumn\": \(r.end.column)"
  }
}

/// A JSON string literal with the escapes RFC 8259 requires.
public func jsonString(_ s: String) -> String {
  var out = "\""
  for scalar in s.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case _ where scalar.value < 0x20 || scalar.value == 0x7F:
      let hex = String(scalar.value, radix: 16)
      out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out + "\""
}
