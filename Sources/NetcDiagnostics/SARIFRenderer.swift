/// Turns diagnostics into a SARIF 2.1.0 log for code scanning (GitHub's
/// `upload-sarif`, editors' SARIF viewers): one run of the tool `netc` with every
/// diagnostic code as a rule, one result per diagnostic, notes as related locations.
/// Columns count Unicode code points (`columnKind: unicodeCodePoints`), as netc's do.
public struct SARIFRenderer: Sendable {
  /// The version of netc written into the log.
  public var toolVersion: String

  /// Creates a renderer.
  public init(toolVersion: String) {
    self.toolVersion = toolVersion
  }

  /// The log as JSON text, ending in a newline.
  public func render(_ diagnostics: [Diagnostic]) -> String {
    let codes = DiagnosticCode.allCases
    let rules = codes.map { code in
      "        {\"id\": \(jsonString(code.rawValue)), \"name\": \(jsonString(ruleName(code))), "
        + "\"shortDescription\": {\"text\": \(jsonString(code.summary))}, "
        + "\"defaultConfiguration\": {\"level\": \(jsonString(defaultLevel(code)))}}"
    }
    let results = diagnostics.sortedForDisplay().map { d in
      "        " + result(d, ruleIndex: codes.firstIndex(of: d.code) ?? 0)
    }
    return """
      {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
          "tool": {"driver": {
            "name": "netc",
            "version": \(jsonString(toolVersion)),
            "informationUri": "https://github.com/netc/netc",
            "rules": [
      \(rules.joined(separator: ",\n"))
            ]
          }},
          "columnKind": "unicodeCodePoints",
          "results": [\(results.isEmpty ? "" : "\n" + results.joined(separator: ",\n") + "\n      ")]
        }]
      }

      """
  }

  private func result(_ d: Diagnostic, ruleIndex: Int) -> String {
    var text = d.message
    var related: [String] = []
    var notes = d.notes
    if let fix = d.fixIt {
      notes.insert(.init("write `\(fix.replacement)` instead", at: fix.range), at: 0)
    }
    for note in notes {
      if let r = note.range {
        related.append(
          "{\"id\": \(related.count), \(physicalLocation(r)), \"message\": {\"text\": \(jsonString(note.message))}}"
        )
      } else {
        text += "\n" + note.message
      }
    }
    var out =
      "{\"ruleId\": \(jsonString(d.code.rawValue)), \"ruleIndex\": \(ruleIndex), \"level\": \(jsonString(d.severity.rawValue)), "
      + "\"message\": {\"text\": \(jsonString(text))}"
    // GitHub's upload-sarif rejects a result without a location: one about no place in a
    // file points at the file, else at the invocation's working directory.
    if let r = d.range {
      out += ", \"locations\": [{\(physicalLocation(r))}]"
    } else {
      out += ", \"locations\": [{\"physicalLocation\": {\"artifactLocation\": {\"uri\": \(jsonString(uri(d.file ?? ".")))}}}]"
    }
    if !related.isEmpty { out += ", \"relatedLocations\": [\(related.joined(separator: ", "))]" }
    return out + "}"
  }

  private func physicalLocation(_ r: SourceRange) -> String {
    "\"physicalLocation\": {\"artifactLocation\": {\"uri\": \(jsonString(uri(r.file)))}, \"region\": {\"startLine\": \(r.start.line), "
      + "\"startColumn\": \(r.start.column), \"endLine\": \(r.end.line), \"endColumn\": \(r.end.column)}}"
  }

  /// A path as a relative URI reference: `/` kept, other reserved and non-ASCII bytes escaped.
  private func uri(_ path: String) -> String {
    var out = ""
    for byte in path.utf8 {
      let c = Unicode.Scalar(byte)
      if (c.properties.isAlphabetic && byte < 0x80) || (byte >= 0x30 && byte <= 0x39)
        || "/-._~".unicodeScalars.contains(c)
      {
        out.unicodeScalars.append(c)
      } else {
        let hex = String(byte, radix: 16, uppercase: true)
        out += "%" + (hex.count == 1 ? "0" + hex : hex)
      }
    }
    return out
  }

  /// The severity netc gives this kind of diagnostic: lint codes warn, skipped checks note.
  private func defaultLevel(_ code: DiagnosticCode) -> String {
    if code == .notChecked { return "note" }
    return code.rawValue.hasPrefix("NS5") || code == .onnxPartial || code == .onnxInputAssumed ? "warning" : "error"
  }

  /// The code's case name (`unknownOp`), SARIF's readable rule name.
  private func ruleName(_ code: DiagnosticCode) -> String {
    String(describing: code)
  }
}
