/// The text of one input file, with the line table that turns positions into `line:col`.
public final class SourceFile: Sendable {
  /// The path as the user gave it; diagnostics print it verbatim.
  public let path: String
  /// The file's bytes, decoded as UTF-8 (invalid sequences are rejected before this point).
  public let text: String
  /// The lines of `text`, without their terminators, for snippets under diagnostics.
  public let lines: [Substring]

  /// Creates a source file from its path and text.
  public init(path: String, text: String) {
    self.path = path
    self.text = text
    // Swift reads "\r\n" as one Character, so splitting on "\n" alone would miss CRLF breaks.
    self.lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
  }

  /// The text of 1-based line `line`, or nil when the file has no such line.
  public func line(_ line: Int) -> Substring? {
    guard line >= 1, line <= lines.count else { return nil }
    return lines[line - 1]
  }
}
