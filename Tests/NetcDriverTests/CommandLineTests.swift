import Foundation
import NetcTestSupport
import Testing

/// The rules every command shares for its arguments and exit codes (README, "Exit codes"):
/// 2 for usage and unreadable files, 1 for a file that is no valid spec, whatever the command.
@Suite struct CommandLineTests {
  /// A scratch file, removed when the test ends.
  final class Scratch {
    let path = NSTemporaryDirectory() + "netc-cli-" + UUID().uuidString
    init(_ bytes: [UInt8]) { _ = FileManager.default.createFile(atPath: path, contents: Data(bytes)) }
    deinit { try? FileManager.default.removeItem(atPath: path) }
  }

  /// Each command with the arguments it needs besides the spec.
  static let commands: [[String]] = [["analyze"], ["solve"], ["run", "--input", "[1]"], ["emit", "-o", "/dev/null"], ["check"]]

  @Test("a binary file as a spec exits 1 in every command", arguments: commands)
  func binarySpec(_ command: [String]) throws {
    // The start of an ELF executable: read fine, but not UTF-8 (0xD0 0x00 is no sequence).
    let file = Scratch([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0xD0, 0x00, 0x3E, 0x00])
    let result = try NetcProcess.run([command[0], file.path] + command.dropFirst())
    #expect(result.status == 1, "\(result.stderr)")
    #expect(result.stderr.contains("\(file.path):1:"), "the diagnostic is located: \(result.stderr)")
  }

  @Test("a missing spec exits 2 in every command", arguments: commands)
  func missingSpec(_ command: [String]) throws {
    let result = try NetcProcess.run([command[0], "specs/no-such-spec.yaml"] + command.dropFirst())
    #expect(result.status == 2, "\(result.stderr)")
  }

  /// Commands that bind vars, on specs/solve-find-k.yaml (its one var is `k`).
  static let binders: [[String]] = [
    ["analyze"], ["solve"], ["run", "--input", "[1]"], ["emit", "-o", "/dev/null"], ["bench", "--seconds", "0.01"],
  ]

  @Test("--set of a var the spec does not declare is a usage error naming the spec's vars", arguments: binders)
  func unknownVar(_ command: [String]) throws {
    let result = try NetcProcess.run([command[0], "specs/solve-find-k.yaml", "--set", "kk=9"] + command.dropFirst())
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.stderr.contains("`kk`") && result.stderr.contains("`k`"), "\(result.stderr)")
  }

  @Test("--set of one var twice is a usage error, not the last one winning", arguments: binders)
  func repeatedVar(_ command: [String]) throws {
    let result = try NetcProcess.run(
      [command[0], "specs/solve-find-k.yaml", "--set", "k=9", "--set", "k=10"] + command.dropFirst())
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.stderr.contains("k=9") && result.stderr.contains("k=10"), "\(result.stderr)")
  }

  @Test("a var of any one of several specs may be set; one of none is refused")
  func varOfSeveralSpecs() throws {
    let both = ["analyze", "specs/small-cnn.yaml", "specs/solve-find-k.yaml"]
    #expect(try NetcProcess.run(both + ["--set", "k=9"]).status == 0)
    let none = try NetcProcess.run(both + ["--set", "q=9"])
    #expect(none.status == 2)
    #expect(none.stderr.contains("`k`"), "\(none.stderr)")
  }

  @Test("a --set value beyond 64 bits says it is too large")
  func hugeSetValue() throws {
    // 2^63 - 1 = 9223372036854775807 has 19 digits; this has 20.
    let result = try NetcProcess.run(["analyze", "specs/solve-find-k.yaml", "--set", "k=99999999999999999999"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("too large"), "\(result.stderr)")
  }

  @Test("a --batch that makes the figures overflow is the flag's error, not the spec's")
  func hugeBatch() throws {
    // small-cnn has 343,080 MACs per example: 343,080 * 10^14 = 3.4e19 > 2^63 - 1 = 9.2e18.
    let result = try NetcProcess.run(["analyze", "specs/small-cnn.yaml", "--batch", "100000000000000"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("--batch") && result.stderr.contains("too large"), "\(result.stderr)")
    #expect(!result.stderr.contains("small-cnn.yaml:"), "no line of the spec is blamed: \(result.stderr)")
  }

  @Test(
    "a negative count is out of range, not a missing value",
    arguments: [
      ["analyze", "specs/small-cnn.yaml", "--batch", "-1"],
      ["analyze", "specs/small-cnn.yaml", "--depth", "-1"],
      ["run", "specs/run-mlp3.yaml", "--input", "[1, -1]", "--seed", "-1"],
      ["run", "specs/run-mlp3.yaml", "--input", "[1, -1]", "--threads", "-1"],
      ["run", "specs/run-mlp3.yaml", "--input", "[1, -1]", "--repeat-count", "-1"],
      ["solve", "specs/solve-find-k.yaml", "--max", "-1"],
      ["solve", "specs/solve-find-k.yaml", "--limit", "-1"],
      ["bench", "specs/small-cnn.yaml", "--seconds", "-1"],
    ])
  func negativeCounts(_ arguments: [String]) throws {
    let result = try NetcProcess.run(arguments)
    #expect(result.status == 2)
    #expect(result.stderr.contains("out of range"), "\(result.stderr)")
    #expect(!result.stderr.contains("Missing value"), "\(result.stderr)")
  }

  @Test("a $SWIFTC that does not exist is an error, not a silent fallback")
  func badSwiftc() throws {
    let result = try NetcProcess.run(["bench", "specs/small-cnn.yaml"], environment: ["SWIFTC": "/nonexistent/swiftc"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("/nonexistent/swiftc"), "\(result.stderr)")
    #expect(result.stdout.isEmpty)
  }

  @Test("a $SWIFTC that is not executable is an error naming the variable, before any work")
  func nonExecutableSwiftc() throws {
    let result = try NetcProcess.run(["bench", "specs/small-cnn.yaml"], environment: ["SWIFTC": "README.md"])
    #expect(result.status == 2)
    #expect(result.stderr.hasPrefix("netc: error: $SWIFTC is `README.md`, which is not executable"), "\(result.stderr)")
    #expect(result.stdout.isEmpty)
  }

  @Test("check of a directory notes the YAML files it skipped as not specs, and keeps JSON clean")
  func checkSkipsNonSpecs() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-skip-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "name: t\ninput: 8x8x3\nlayers: [RELU]\n".write(toFile: dir + "/net.yaml", atomically: true, encoding: .utf8)
    try "services: {web: {image: nginx}}\n".write(toFile: dir + "/docker-compose.yml", atomically: true, encoding: .utf8)
    let text = try NetcProcess.run(["check", dir])
    #expect(text.status == 0)
    #expect(text.stderr.contains("netc: checked 1 spec: 0 errors, 0 warnings\n"), "\(text.stderr)")
    #expect(
      text.stderr.contains("netc: note: skipped 1 non-spec YAML file (no `netspec`, `input` or `layers` key): `\(dir)/docker-compose.yml`"))
    let json = try NetcProcess.run(["check", dir, "--format", "json"])
    #expect(json.status == 0)
    #expect(json.stdout == "[]\n", "\(json.stdout)")
  }

  @Test("--print-ir with a machine format is a usage error, not text where JSON was asked")
  func printIRFormat() throws {
    let result = try NetcProcess.run(["analyze", "specs/small-cnn.yaml", "--print-ir", "--format", "json"])
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
  }

  @Test("--compare with --batch names the batch in the table and in the JSON")
  func compareBatch() throws {
    let specs = ["specs/conv3x3-30x30x20.yaml", "specs/sepconv3x3-30x30x20.yaml"]
    let table = try NetcProcess.run(["analyze", "--compare", "--batch", "4"] + specs)
    #expect(table.status == 0)
    #expect(table.stdout.contains("batch 4"), "\(table.stdout)")
    let json = try NetcProcess.run(["analyze", "--compare", "--batch", "4", "--format", "json"] + specs)
    let items = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
    #expect(items.map { $0["batch"] as? Int } == [4, 4])
    // conv3x3: 3*3*20 inputs * 40 filters * 15*15 outputs = 1,620,000 MACs per example, times 4.
    #expect((items[0]["totals"] as? [String: Int])?["macs"] == 4 * 3 * 3 * 20 * 40 * 15 * 15)
  }

  @Test("a misspelled command gets the command it resembles")
  func misspelledCommand() throws {
    let result = try NetcProcess.run(["analyz", "specs/small-cnn.yaml"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("`analyze`"), "\(result.stderr)")
  }
}

/// Long work says what it is doing on a terminal, and nowhere else.
@Suite struct ProgressTests {
  /// `/bin/false` as swiftc fails the compile at once, right after bench says it compiles.
  static let failingCompiler = ["SWIFTC": "/bin/false"]

  @Test("bench names its stage on a terminal")
  func benchOnATerminal() throws {
    let result = try NetcProcess.runOnTerminal(["bench", "specs/small-cnn.yaml"], environment: Self.failingCompiler)
    #expect(result.status == 2)
    #expect(result.stderr.contains("bench: compiling"), "\(result.stderr)")
  }

  @Test("bench is silent about its stages in a log, and in JSON on a terminal")
  func benchElsewhere() throws {
    let log = try NetcProcess.run(["bench", "specs/small-cnn.yaml"], environment: Self.failingCompiler)
    #expect(log.status == 2)
    #expect(log.stderr.hasPrefix("netc: error: swiftc failed"), "\(log.stderr)")
    let json = try NetcProcess.runOnTerminal(
      ["bench", "specs/small-cnn.yaml", "--format", "json"], environment: Self.failingCompiler)
    #expect(json.status == 2)
    #expect(!json.stderr.contains("bench: compiling"), "\(json.stderr)")
  }

  /// Benchmarks/solve's chain20x4: 20 convs with four unknowns each, seconds in a debug build.
  static func chain20() -> String {
    let n = 1...20
    let vars = n.map { "  k\($0): [1, 3, 5, 7]\n  s\($0): [1, 2]\n  p\($0): 0..3\n  d\($0): [1, 2]\n" }.joined()
    let layers = n.map { "  - CONV$k\($0)-8 stride $s\($0) pad $p\($0) dilation $d\($0)\n" }.joined()
    return "name: chain20x4\ninput: 224x224x3\nvars:\n" + vars + "layers:\n" + layers + "output: 7x7x8\n"
  }

  @Test("a long solve says how far it is on a terminal, and only there")
  func solveOnATerminal() throws {
    let file = CommandLineTests.Scratch(Array(Self.chain20().utf8))
    let terminal = try NetcProcess.runOnTerminal(["solve", file.path, "--count"])
    #expect(terminal.status == 0)
    #expect(terminal.stderr.contains("solve: node"), "\(terminal.stderr)")
    #expect(!terminal.stdout.contains("solve: node"))
    let json = try NetcProcess.runOnTerminal(["solve", file.path, "--count", "--format", "json"])
    #expect(json.status == 0)
    #expect(json.stderr.isEmpty, "\(json.stderr)")
  }
}
