import Foundation

/// Golden files: expected output kept next to the test that produces it, in a `Goldens`
/// folder beside the test's source file, and re-recorded with `RECORD_GOLDENS=1`.
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
