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
    // Lines end at "\n", and a "\r" before it goes with the break. Scanning UTF-8 bytes is
    // many times faster than splitting Characters, which matters for a 10 MB file.
    var lines: [Substring] = []
    let utf8 = text.utf8
    var start = utf8.startIndex
    var i = start
    while i != utf8.endIndex {
      if utf8[i] == UInt8(ascii: "\n") {
        var end = i
        if end > start, utf8[utf8.index(before: end)] == UInt8(ascii: "\r") { end = utf8.index(before: end) }
        lines.append(text[start..<end])
        start = utf8.index(after: i)
      }
      i = utf8.index(after: i)
    }
    lines.append(text[start..<utf8.endIndex])
    self.lines = lines
  }

  /// The text of 1-based line `line`, or nil when the file has no such line.
  public func line(_ line: Int) -> Substring? {
    guard line >= 1, line <= lines.count else { return nil }
    return lines[line - 1]
  }
}
