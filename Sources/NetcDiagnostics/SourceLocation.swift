/// A 1-based line and column in a source file; columns count Unicode scalars, as editors do.
public struct SourceLocation: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// 1-based line number.
  public var line: Int
  /// 1-based column, in Unicode scalars from the start of the line.
  public var column: Int

  /// Creates a location from a 1-based line and column.
  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }

  /// This location moved `count` columns to the right on the same line.
  public func advanced(by count: Int) -> SourceLocation {
    SourceLocation(line: line, column: column + count)
  }

  public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
    (a.line, a.column) < (b.line, b.column)
  }

  public var description: String { "\(line):\(column)" }
}

/// A half-open range of source, in one file; `end` is the position just past the last character.
public struct SourceRange: Hashable, Sendable, CustomStringConvertible {
  /// The file the range is in.
  public var file: String
  /// The first character.
  public var start: SourceLocation
  /// Just past the last character (equal to `start` for an empty range).
  public var end: SourceLocation

  /// Creates a range in `file` from `start` to `end`.
  public init(file: String, start: SourceLocation, end: SourceLocation) {
    self.file = file
    self.start = start
    self.end = max(start, end)
  }

  /// A range covering `length` columns from `start` on one line.
  public init(file: String, start: SourceLocation, length: Int) {
    self.init(file: file, start: start, end: start.advanced(by: max(0, length)))
  }

  /// The sub-range of a single-line range starting `offset` columns in and `length` long.
  public func slice(offset: Int, length: Int) -> SourceRange {
    SourceRange(file: file, start: start.advanced(by: offset), length: length)
  }

  /// The range from the start of `self` to the end of `other`.
  public func merged(with other: SourceRange) -> SourceRange {
    SourceRange(file: file, start: min(start, other.start), end: max(end, other.end))
  }

  public var description: String { "\(file):\(start)" }
}
