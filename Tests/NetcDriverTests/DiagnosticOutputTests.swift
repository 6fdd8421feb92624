import Foundation
import NetcTestSupport
import Testing

/// What a person reads of diagnostics on the command line.
@Suite struct DiagnosticOutputTests {
  /// A spec file in a scratch directory, removed when the test ends.
  final class SpecFile {
    let directory = NSTemporaryDirectory() + "netc-diag-" + UUID().uuidString
    var path: String { directory + "/net.yaml" }
    init(_ text: String) throws {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
    deinit { try? FileManager.default.removeItem(atPath: directory) }
  }

  @Test("the code a text warning shows is the one `# netc: allow` takes to silence it")
  func codeInText() throws {
    let twice = try SpecFile("name: t\ninput: 8x8x3\nlayers:\n  - RELU\n  - RELU\n")
    let shown = try NetcProcess.run(["check", twice.path])
    let header = try #require(shown.stderr.split(separator: "\n").first { $0.contains("warning[") }, "\(shown.stderr)")
    let code = try #require(header.split(separator: "[").dropFirst().first?.split(separator: "]").first)
    let silenced = try SpecFile("name: t\ninput: 8x8x3\nlayers:\n  - RELU\n  - RELU   # netc: allow \(code)\n")
    let quiet = try NetcProcess.run(["check", "--werror", silenced.path])
    #expect(quiet.status == 0, "\(quiet.stderr)")
  }

  @Test("an empty file gets its message without a snippet of nothing")
  func emptyFile() throws {
    let empty = try SpecFile("")
    let result = try NetcProcess.run(["check", empty.path])
    #expect(result.status == 1)
    #expect(result.stderr.contains("\(empty.path):1:1: error"), "\(result.stderr)")
    #expect(!result.stderr.split(separator: "\n").contains { $0.allSatisfy { $0 == "^" || $0 == " " } }, "\(result.stderr)")
  }

  @Test("analyze warns that 3x32x32 is read as H x W x C, and a comment silences it")
  func channelsFirstInput() throws {
    let chw = try SpecFile("name: t\ninput: 3x32x32\nlayers: [RELU]\n")
    let warned = try NetcProcess.run(["analyze", chw.path])
    #expect(warned.status == 0)
    #expect(warned.stderr.contains("NS507"), "\(warned.stderr)")
    let meant = try SpecFile("name: t\ninput: 3x32x32   # netc: allow NS507\nlayers: [RELU]\n")
    #expect(try NetcProcess.run(["analyze", meant.path]).stderr.isEmpty)
  }

  @Test("counts of one take the singular: 1 step, 1 shape")
  func singular() throws {
    let one = try SpecFile("name: one\ninput: 4\nlayers: [FC-2]\n")
    let emitted = try NetcProcess.run(["emit", one.path, "-o", one.directory + "/One.swift"])
    #expect(emitted.status == 0, "\(emitted.stderr)")
    #expect(emitted.stdout.contains(" 1 step,"), "\(emitted.stdout)")
    // One input shape reaches the conv, which would try 10^15 values of (a, b, c).
    let big = try SpecFile(
      "name: big\ninput: 4096x4096x3\nvars: {a: 1..100000, b: 1..100000, c: 1..100000}\nlayers: [CONV$a-$b dilation $c -> 1x1x_]\n")
    let solved = try NetcProcess.run(["solve", big.path])
    #expect(solved.status == 1)
    #expect(solved.stderr.contains("(1 shape reaching it"), "\(solved.stderr)")
  }
}
