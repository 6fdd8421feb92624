import Foundation
import Testing

@testable import NetcBackends

/// Finding swiftc: a `$SWIFTC` that names no executable file is an error naming the
/// variable, never a silent fallback to another swiftc.
@Suite struct SwiftToolchainTests {
  @Test("a $SWIFTC that is missing, a directory or not executable is an error naming it")
  func badVariable() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-swiftc-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let plain = dir + "/swiftc.txt"
    try "not a compiler".write(toFile: plain, atomically: true, encoding: .utf8)
    for (path, why) in [(dir + "/missing/swiftc", "does not exist"), (dir, "is a directory"), (plain, "is not executable")] {
      #expect(throws: FileError.self) { try SwiftToolchain.swiftc(variable: path) }
      do {
        _ = try SwiftToolchain.swiftc(variable: path)
      } catch {
        #expect(error.message.hasPrefix("$SWIFTC is `\(path)`, which \(why)"), "\(error.message)")
      }
    }
  }

  @Test("an executable $SWIFTC is used as is; unset or empty, swiftc is searched for")
  func goodVariable() throws {
    #expect(try SwiftToolchain.swiftc(variable: "/bin/sh") == "/bin/sh")
    let found = try SwiftToolchain.swiftc(variable: "")
    #expect(found == (try SwiftToolchain.swiftc(variable: nil)))
    if let found { #expect(found.hasSuffix("/swiftc")) }
  }
}
