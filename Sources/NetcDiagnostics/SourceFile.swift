/// The text of one input file, with the line table that turns positions into `line:col`.
public final class SourceFile: Sendable {
  /// The path as the user gave it; diagnostics print it verbatim.
  public let path: String
  /// The file's bytes, decoded as UTF-8 (invalid sequences are rejected before this point).
  public let text: String
  /// The UTF-8 offset at which each line starts; found with one pass over the bytes, as
  /// Character-wise splitting cost more than the rest of reading a 100,000-layer spec.
  private let lineStarts: [Int]

  /// Creates a source file from its path and text.
  public init(path: String, text: String) {
    self.path = path
    self.text = text
    var starts = [0]
    var index = 0
    for byte in text.utf8 {
      index += 1
      if byte == UInt8(ascii: "\n") { starts.append(index) }
    }
    self.lineStarts = starts
  }

  /// How many lines the file has (a final newline does not start another line of text).
  public var lineCount: Int { lineStarts.count }

  /// The text of 1-based line `line` without its terminator (`\n` or `\r\n`), or nil when
  /// the file has no such line.
  public func line(_ line: Int) -> Substring? {
    guard line >= 1, line <= lineStarts.count else { return nil }
    let utf8 = text.utf8
    let start = utf8.index(utf8.startIndex, offsetBy: lineStarts[line - 1])
    var end = line < lineStarts.count ? utf8.index(utf8.startIndex, offsetBy: lineStarts[line] - 1) : utf8.endIndex
    if end > start, utf8[utf8.index(before: end)] == UInt8(ascii: "\r") { end = utf8.index(before: end) }
    return text[start..<end]
  }
}
