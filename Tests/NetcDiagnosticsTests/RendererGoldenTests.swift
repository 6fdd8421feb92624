import Foundation
import NetcDiagnostics
import NetcTestSupport
import Testing

/// A small file and diagnostics over it that exercise every part of each format: a range,
/// notes with and without places, a fix-it, a warning, a note, a diagnostic with no place,
/// and text that needs escaping in JSON, workflow commands and URIs.
private enum Sample {
  static let path = "specs/my net.yaml"
  static let source = SourceFile(
    path: path,
    text:
      "name: t\ninput: 32x32x3\nlayers:\n  - CONVV3-20 stride 2 pad 3\n  - POOL-2\n  - RELU\n  - RELU\n"
  )

  static func at(_ line: Int, _ column: Int, _ length: Int) -> SourceRange {
    SourceRange(file: path, start: SourceLocation(line: line, column: column), length: length)
  }

  static let diagnostics: [Diagnostic] = [
    .warning(
      .repeatedActivation, "RELU right after another RELU (`relu1`)", at: at(7, 5, 4),
      notes: [.init("RELU of RELU changes nothing", at: at(6, 5, 4))]),
    .error(
      .unknownOp, "unknown layer kind `CONVV`", at: at(4, 5, 5),
      notes: [
        .init("did you mean `CONV`?", at: at(4, 5, 5)),
        .init("a note with \"quotes\", 100% commas: and\nnewlines"),
      ],
      fixIt: .init(range: at(4, 5, 5), replacement: "CONV")),
    Diagnostic(.note, .notChecked, "not checked: weight shapes", at: at(1, 1, 4)),
    .error(.io, "cannot read `missing.yaml`: no such file or directory", at: nil).about("missing.yaml"),
    .error(.io, "no spec files (*.yaml, *.yml) given", at: nil),
  ]
}

@Suite("Diagnostic renderers")
struct RendererGoldenTests {
  @Test("text: GNU header, snippet with caret, notes, sorted by position")
  func text() throws {
    let actual = DiagnosticRenderer(sources: [Sample.source]).render(Sample.diagnostics)
    #expect(try Golden.expected(actual, named: "text.txt") == actual)
  }

  @Test(
    "JSON: one object per diagnostic with file, line, column, endLine, endColumn, severity, code, message, notes"
  )
  func json() throws {
    let actual = DiagnosticJSON().render(Sample.diagnostics)
    #expect(try Golden.expected(actual, named: "diagnostics.json") == actual)
  }

  @Test("GitHub: workflow commands with escaped properties and data")
  func github() throws {
    let actual = GitHubAnnotations().render(Sample.diagnostics)
    #expect(try Golden.expected(actual, named: "github.txt") == actual)
  }

  @Test("SARIF 2.1.0: rules for every code, results with locations and related locations")
  func sarif() throws {
    let actual = SARIFRenderer(toolVersion: "0.1.0").render(Sample.diagnostics)
    #expect(try Golden.expected(actual, named: "diagnostics.sarif") == actual)
  }

  @Test("SARIF: every result has a location, a file's or the invocation's, as upload-sarif requires")
  func sarifLocations() throws {
    let log = SARIFRenderer(toolVersion: "0.1.0").render(Sample.diagnostics)
    let root = try #require(JSONSerialization.jsonObject(with: Data(log.utf8)) as? [String: Any])
    let run = try #require((root["runs"] as? [[String: Any]])?.first)
    let results = try #require(run["results"] as? [[String: Any]])
    #expect(results.count == Sample.diagnostics.count)
    let uris = results.map { result -> String? in
      let location = (result["locations"] as? [[String: Any]])?.first
      let physical = location?["physicalLocation"] as? [String: Any]
      return (physical?["artifactLocation"] as? [String: Any])?["uri"] as? String
    }
    #expect(!uris.contains(nil), "\(uris)")
    #expect(uris.contains("missing.yaml"))
  }

  @Test("colour only when asked: ANSI escapes around the label")
  func colour() {
    let plain = DiagnosticRenderer(sources: [Sample.source]).render(Sample.diagnostics)
    let colored = DiagnosticRenderer(sources: [Sample.source], colored: true).render(
      Sample.diagnostics)
    #expect(!plain.contains("\u{1B}["))
    #expect(colored.contains("\u{1B}[1;31merror[NS104]:\u{1B}[0m"))
  }

  @Test("a long line is cut around the range, the caret still under it")
  func longLine() {
    let line =
      String(repeating: "RELU, ", count: 100) + "CONVV3" + String(repeating: ", RELU", count: 100)
    let source = SourceFile(path: "long.yaml", text: line + "\n")
    let column = 601
    let d = Diagnostic.error(
      .unknownOp, "unknown layer kind `CONVV`",
      at: SourceRange(file: "long.yaml", start: SourceLocation(line: 1, column: column), length: 5))
    let lines = DiagnosticRenderer(sources: [source]).render(d).split(separator: "\n")
    #expect(lines.count == 3)
    #expect(lines[1].unicodeScalars.count <= DiagnosticRenderer.maxSnippetWidth + 4)
    let caret = lines[2].unicodeScalars.firstIndex(of: "^").map {
      lines[2].unicodeScalars.distance(from: lines[2].unicodeScalars.startIndex, to: $0)
    }
    let word = lines[1].range(of: "CONVV").map {
      lines[1].unicodeScalars.distance(from: lines[1].unicodeScalars.startIndex, to: $0.lowerBound)
    }
    #expect(caret != nil && caret == word)
  }
}
