/// How serious a diagnostic is.
public enum Severity: String, Sendable, Comparable, Codable {
  case note, warning, error

  private var rank: Int {
    switch self {
    case .note: 0
    case .warning: 1
    case .error: 2
    }
  }

  public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// A message about the input, pinned to the place it is about.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
  /// A secondary message, with its own location when it has one.
  public struct Note: Hashable, Sendable {
    /// The note's text: lowercase, no trailing period.
    public var message: String
    /// Where the note points, if anywhere.
    public var range: SourceRange?

    /// Creates a note.
    public init(_ message: String, at range: SourceRange? = nil) {
      self.message = message
      self.range = range
    }
  }

  /// A suggested replacement of the text in a range.
  public struct FixIt: Hashable, Sendable {
    /// The text to replace.
    public var range: SourceRange
    /// What to write instead.
    public var replacement: String

    /// Creates a fix-it.
    public init(range: SourceRange, replacement: String) {
      self.range = range
      self.replacement = replacement
    }
  }

  /// Error, warning or note.
  public var severity: Severity
  /// The stable code of this kind of diagnostic (`NS101`), documented in the README.
  public var code: DiagnosticCode
  /// The message: lowercase, no trailing period, names what was expected.
  public var message: String
  /// Where the problem is; nil only for problems of a whole file or the command line.
  public var range: SourceRange?
  /// Further explanation, each possibly pointing elsewhere.
  public var notes: [Note]
  /// A replacement that would fix the problem, when one is known.
  public var fixIt: FixIt?
  /// The file a diagnostic without a range is about (one that cannot be read), when there
  /// is one: SARIF needs a location for every result.
  public var file: String?

  /// Creates a diagnostic.
  public init(
    _ severity: Severity, _ code: DiagnosticCode, _ message: String, at range: SourceRange?,
    notes: [Note] = [], fixIt: FixIt? = nil
  ) {
    self.severity = severity
    self.code = code
    self.message = message
    self.range = range
    self.notes = notes
    self.fixIt = fixIt
  }

  /// An error at `range`.
  public static func error(
    _ code: DiagnosticCode, _ message: String, at range: SourceRange?, notes: [Note] = [],
    fixIt: FixIt? = nil
  ) -> Diagnostic {
    Diagnostic(.error, code, message, at: range, notes: notes, fixIt: fixIt)
  }

  /// A warning at `range`.
  public static func warning(
    _ code: DiagnosticCode, _ message: String, at range: SourceRange?, notes: [Note] = []
  ) -> Diagnostic {
    Diagnostic(.warning, code, message, at: range, notes: notes)
  }

  /// The same diagnostic, about the whole of `file`.
  public func about(_ file: String) -> Diagnostic {
    var d = self
    d.file = file
    return d
  }

  public var description: String {
    let place = range.map { "\($0.file):\($0.start): " } ?? ""
    return "\(place)\(severity.rawValue): \(message)"
  }
}

/// Several diagnostics thrown together, for passes that report all they find.
public struct DiagnosticError: Error, Sendable, CustomStringConvertible {
  /// The diagnostics, in the order they were found.
  public var diagnostics: [Diagnostic]

  /// Wraps diagnostics as one error.
  public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

  public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

extension Array where Element == Diagnostic {
  /// Sorted by file and position (Go's ordering), one diagnostic per location and message.
  public func sortedForDisplay() -> [Diagnostic] {
    var seen = Set<String>()
    return enumerated().sorted { a, b in
      let ra = a.element.range
      let rb = b.element.range
      if ra?.file != rb?.file { return (ra?.file ?? "") < (rb?.file ?? "") }
      if let sa = ra?.start, let sb = rb?.start, sa != sb { return sa < sb }
      return a.offset < b.offset
    }.map(\.element).filter {
      seen.insert("\($0.range?.description ?? "")|\($0.severity)|\($0.message)").inserted
    }
  }
}
