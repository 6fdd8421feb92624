import Foundation
import Testing

/// Compares `actual` with the golden file `name` in the test target's `Goldens/` folder;
/// with `RECORD_GOLDENS=1` in the environment, writes the file instead (then read it
/// once before committing: goldens pin presentation, not numbers).
public func assertGolden(
  _ actual: String, named name: String, in directory: String = #filePath,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let folder = URL(fileURLWithPath: directory).deletingLastPathComponent().appendingPathComponent("Goldens")
  let url = folder.appendingPathComponent(name)
  if ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1" {
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try? actual.write(to: url, atomically: true, encoding: .utf8)
    return
  }
  guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
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
