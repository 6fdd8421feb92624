/// Turns diagnostics into text for people: a GNU header, the source line, a caret line.
public struct DiagnosticRenderer: Sendable {
  /// Whether to colour the output with ANSI escapes (only on a terminal, never with NO_COLOR).
  public var colored: Bool
  /// The widest source line shown under a diagnostic; longer lines are cut around the range.
  public static let maxSnippetWidth = 160
  /// The files the diagnostics point into, by path, for the source snippets.
  public var sources: [String: SourceFile]

  /// Creates a renderer over the given sources.
  public init(sources: [SourceFile] = [], colored: Bool = false) {
    self.colored = colored
    self.sources = Dictionary(sources.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
  }

  /// All diagnostics, sorted by position, each followed by its notes.
  public func render(_ diagnostics: [Diagnostic]) -> String {
    diagnostics.sortedForDisplay().map(render).joined()
  }

  /// One diagnostic and its notes, each line ending in a newline.
  public func render(_ diagnostic: Diagnostic) -> String {
    var out = header(diagnostic.severity, diagnostic.message, diagnostic.range, code: diagnostic.code)
    out += snippet(diagnostic.range)
    if let fix = diagnostic.fixIt {
      out += header(.note, "write `\(fix.replacement)` instead", fix.range)
    }
    for note in diagnostic.notes {
      out += header(.note, note.message, note.range ?? diagnostic.range)
      if let range = note.range, range != diagnostic.range { out += snippet(range) }
    }
    return out
  }

  /// `file:line:col: error[NS104]: message`: the code, as rustc shows it, is what a
  /// `# netc: allow NS501` comment and the docs' table need; notes carry none.
  private func header(_ severity: Severity, _ message: String, _ range: SourceRange?, code: DiagnosticCode? = nil)
    -> String
  {
    let place = range.map { "\($0.file):\($0.start.line):\($0.start.column): " } ?? "netc: "
    let tag = code.map { "[\($0.rawValue)]" } ?? ""
    let label: String
    switch severity {
    case .error: label = paint("error\(tag):", "1;31")
    case .warning: label = paint("warning\(tag):", "1;35")
    case .note: label = paint("note\(tag):", "1;36")
    }
    return paint(place, "1") + label + " " + paint(message, "1") + "\n"
  }

  private func snippet(_ range: SourceRange?) -> String {
    // A blank line (an empty file) would show a caret under nothing.
    guard let range, let line = sources[range.file]?.line(range.start.line), line.contains(where: { $0 != " " && $0 != "\t" })
    else { return "" }
    var scalars = Array(line.unicodeScalars)
    var column = range.start.column
    var lastColumn = range.end.line == range.start.line ? range.end.column : scalars.count + 1
    // A long line (a 10 MB scalar) is shown as a window around the start of the range.
    var lead = "", tail = ""
    if scalars.count > Self.maxSnippetWidth {
      let from = max(0, min(column - 1, scalars.count) - Self.maxSnippetWidth / 4)
      let to = min(scalars.count, from + Self.maxSnippetWidth)
      if from > 0 { lead = "…" }
      if to < scalars.count { tail = "…" }
      scalars = Array(scalars[from..<to])
      column -= from - (lead.isEmpty ? 0 : 1)
      lastColumn -= from - (lead.isEmpty ? 0 : 1)
      if !lead.isEmpty { scalars.insert("…", at: 0) }
    }
    let text = String(String.UnicodeScalarView(scalars)) + tail
    // The caret sits under the first character; tildes follow over the rest on this line.
    var prefix = ""
    for (i, s) in scalars.enumerated() where i < column - 1 {
      prefix += s == "\t" ? "\t" : " "
    }
    let width = max(1, min(lastColumn, scalars.count + 1) - column)
    let marker = "^" + String(repeating: "~", count: width - 1)
    return text + "\n" + prefix + paint(marker, "1;32") + "\n"
  }

  private func paint(_ text: String, _ code: String) -> String {
    colored ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
  }
}
