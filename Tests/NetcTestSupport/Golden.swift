import Foundation
import Testing

/// Golden files: expected output kept next to the test that produces it, in a `Goldens`
/// folder beside the test's source file, and re-recorded with `RECORD_GOLDENS=1` (then
/// read every recorded file once before committing: goldens pin presentation, not numbers).
public enum Golden {
  /// True when the environment asks to re-record goldens instead of comparing.
  public static var recording: Bool { ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1" }

  /// The golden `name` of the test file at `testFile`; when recording, writes `actual`
  /// there first. Returns nil when the golden does not exist.
  public static func expected(_ actual: String, named name: String, testFile: String = #filePath)
    throws -> String?
  {
    let directory = URL(fileURLWithPath: testFile).deletingLastPathComponent()
      .appendingPathComponent("Goldens")
    let url = directory.appendingPathComponent(name)
    if recording {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      try actual.write(to: url, atomically: true, encoding: .utf8)
    }
    return try? String(contentsOf: url, encoding: .utf8)
  }
}

/// Compares `actual` with the golden file `name` beside the calling test file, recording
/// an issue that names the first differing line.
public func assertGolden(
  _ actual: String, named name: String, in testFile: String = #filePath,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  guard let expected = try? Golden.expected(actual, named: name, testFile: testFile) else {
    Issue.record("missing golden file \(name): run with RECORD_GOLDENS=1", sourceLocation: sourceLocation)
    return
  }
  if expected != actual {
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let line = zip(e, a).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(e.count, a.count)
    Issue.record(
      "output differs from golden \(name) at line \(line + 1):\n  expected: \(line < e.count ? String(e[line]) : "<end>")\n  actual:   \(line < a.count ? String(a[line]) : "<end>")",
      sourceLocation: sourceLocation)
  }
}

/// The path of a file under the repository root, for tests that read `specs/`.
public func repositoryPath(_ relative: String, from file: String = #filePath) -> String {
  var url = URL(fileURLWithPath: file)
  while url.path != "/" {
    url.deleteLastPathComponent()
    if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
      return url.appendingPathComponent(relative).path
    }
  }
  return relative
}
