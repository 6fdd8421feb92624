import NetcDiagnostics

/// A spec whose expected diagnostics are written inside it, under the line they point at:
///
///     layers:
///       - CONVV3-20
///     #   ^ error: unknown layer kind `CONVV`
///
/// The caret's column is the diagnostic's column (`#<` stands for column 1); marker lines are removed before the
/// spec is read, so the location and the message are pinned together.
public struct MarkedSpec {
  /// The spec without its marker lines.
  public var text: String
  /// The expected diagnostics as `line:column: severity: message`.
  public var expected: [String]

  /// Splits `marked` into the spec and its expectations.
  public init(_ marked: String) {
    var lines: [Substring] = []
    var expected: [String] = []
    for line in marked.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("#<") {
        // `#<` points at column 1, where a caret cannot stand.
        expected.append("\(lines.count):1: \(line.dropFirst(2).drop { $0 == " " })")
        continue
      }
      let trimmed = line.drop { $0 == " " }
      if trimmed.hasPrefix("#"), let caret = line.firstIndex(of: "^"),
        line[line.index(after: line.startIndex)..<caret].allSatisfy({ $0 == " " || $0 == "#" })
      {
        let column = line.distance(from: line.startIndex, to: caret) + 1
        let message = line[line.index(after: caret)...].drop { $0 == " " }
        expected.append("\(lines.count):\(column): \(message)")
      } else {
        lines.append(line)
      }
    }
    self.text = lines.joined(separator: "\n")
    self.expected = expected
  }
}

extension Diagnostic {
  /// `line:column: severity: message`, the form markers are written in.
  public var markerForm: String {
    "\(range?.start.line ?? 0):\(range?.start.column ?? 0): \(severity.rawValue): \(message)"
  }
}
