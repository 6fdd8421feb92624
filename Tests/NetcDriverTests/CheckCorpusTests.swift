import Foundation
import NetcDiagnostics
import NetcTestSupport
import Testing

@testable import NetcDriver

/// The corpus of broken specs: each file starts with `# expect: LINE:COL: SEVERITY: MESSAGE`
/// lines, one per diagnostic `netc check` must produce, in display order (notes aside).
private let corpus: String = Bundle.module.resourcePath! + "/Corpus/broken"

private let brokenFiles: [String] = {
  let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? []
  return names.filter { $0.hasSuffix(".yaml") }.sorted()
}()

/// The expectations written at the top of a corpus file.
private func markers(_ path: String) throws -> [String] {
  let text = try String(contentsOfFile: path, encoding: .utf8)
  return text.split(separator: "\n").filter { $0.hasPrefix("# expect: ") }.map {
    String($0.dropFirst("# expect: ".count))
  }
}

/// Checks `paths` as `netc check --werror` would and returns the diagnostics, in display
/// order as `LINE:COL: SEVERITY: MESSAGE`, and the exit code.
private func check(_ paths: [String]) -> (lines: [String], diagnostics: [Diagnostic], exit: Int32) {
  var run = CheckRun()
  for path in paths { run.add(path) }
  for file in run.files { run.check(file) }
  run.finish()
  let lines = run.diagnostics.sortedForDisplay().map { d in
    "\(d.range.map { "\($0.start.line):\($0.start.column)" } ?? "-"): \(d.severity.rawValue): \(d.message)"
  }
  return (lines, run.diagnostics, run.exitCode(werror: true))
}

/// A fresh directory for generated inputs, removed at the end.
private final class Scratch {
  let path = NSTemporaryDirectory() + "netc-check-" + UUID().uuidString

  init() throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }

  func file(_ name: String, _ bytes: [UInt8]) -> String {
    let file = path + "/" + name
    _ = FileManager.default.createFile(atPath: file, contents: Data(bytes))
    return file
  }

  func file(_ name: String, _ text: String) -> String { file(name, Array(text.utf8)) }
}

@Suite("netc check: broken-spec corpus")
struct CheckCorpusTests {
  @Test("the corpus holds at least 100 broken specs")
  func size() {
    #expect(brokenFiles.count >= 100)
  }

  @Test(
    "each broken spec gets exactly its expected diagnostics and a failing exit code",
    arguments: brokenFiles)
  func broken(_ name: String) throws {
    let path = corpus + "/" + name
    let expected = try markers(path)
    #expect(!expected.isEmpty, "\(name) has no `# expect:` line")
    let result = check([path])
    #expect(result.lines == expected)
    // A spec with nothing but a note (a skipped check) passes; all others fail.
    let failing = expected.contains { $0.contains(": error: ") || $0.contains(": warning: ") }
    #expect(result.exit == (failing ? 1 : 0))
  }
}

@Suite("netc check: generated hostile inputs")
struct CheckHostileInputTests {
  @Test("an alias bomb (10^10 nodes) stops at the expansion limit")
  func aliasBomb() throws {
    let dir = try Scratch()
    var lines = [
      "name: t", "input: 8x8x3",
      "x0: &a0 [RELU, RELU, RELU, RELU, RELU, RELU, RELU, RELU, RELU, RELU]",
    ]
    for i in 1..<10 {
      lines.append(
        "x\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]")
    }
    lines.append("layers: *a9")
    let result = check([dir.file("bomb.yaml", lines.joined(separator: "\n") + "\n")])
    // Each *a8 stands for 1 + 10 + ... + 10^8 (nested lists) + 10^9 scalars; the limit is 4,000,000.
    #expect(
      result.lines.first == "9:20: error: aliases expand this document to more than 4000000 nodes")
    #expect(result.diagnostics.first?.code == .expansionLimit)
    #expect(result.exit == 1)
  }

  @Test(
    "10,000-deep nesting of lists and of mappings stops at 200 levels", arguments: ["[", "{a: "])
  func deepNesting(_ open: String) throws {
    let dir = try Scratch()
    let close = open == "[" ? "]" : "}"
    let body =
      String(repeating: open, count: 10_000) + (open == "[" ? "" : "1")
      + String(repeating: close, count: 10_000)
    let result = check([dir.file("deep.yaml", "name: t\ninput: 8x8x3\nlayers: " + body + "\n")])
    // The root mapping is level 1, so the 200th opener (column 9 + 199 * its width) is level 201.
    #expect(result.lines == ["3:\(9 + 199 * open.count): error: nesting deeper than 200 levels"])
    #expect(result.exit == 1)
  }

  @Test("a 10 MB scalar is refused by size, not read into the tree")
  func hugeScalar() throws {
    let dir = try Scratch()
    let result = check([
      dir.file(
        "scalar.yaml",
        "name: " + String(repeating: "a", count: 10 << 20) + "\ninput: 8x8x3\nlayers: [RELU]\n")
    ])
    #expect(
      result.lines == [
        "1:7: error: scalar of \(10 << 20) bytes is longer than the 65536 bytes netc accepts"
      ])
    #expect(result.exit == 1)
  }

  @Test("a file over 16 MB is refused before it is read")
  func hugeFile() throws {
    let dir = try Scratch()
    let path = dir.file("big.yaml", [UInt8](repeating: UInt8(ascii: "#"), count: (16 << 20) + 1))
    let result = check([path])
    #expect(
      result.lines == [
        "-: error: `\(path)` is \((16 << 20) + 1) bytes; netc reads spec files of up to \(16 << 20) bytes"
      ])
    #expect(result.exit == 1)
  }

  @Test("invalid UTF-8 is reported at its line and column")
  func invalidUTF8() throws {
    let dir = try Scratch()
    let result = check([
      dir.file(
        "bad.yaml", Array("name: t\ninput: 3".utf8) + [0xFF] + Array("\nlayers: [RELU]\n".utf8))
    ])
    #expect(result.lines == ["2:9: error: invalid UTF-8 byte 0xFF"])
    #expect(result.exit == 1)
  }

  @Test("a UTF-16 file is invalid UTF-8, with a hint")
  func utf16() throws {
    let dir = try Scratch()
    let result = check([
      dir.file("utf16.yaml", [0xFF, 0xFE] + Array("n".utf16).flatMap { [UInt8($0), 0] })
    ])
    #expect(result.lines == ["1:1: error: invalid UTF-8 byte 0xFF"])
    #expect(
      result.diagnostics.first?.notes.first?.message
        == "the file looks like UTF-16; save it as UTF-8")
  }

  @Test("an empty file is an empty spec")
  func emptyFile() throws {
    let dir = try Scratch()
    let result = check([dir.file("empty.yaml", [])])
    #expect(
      result.lines == [
        "1:1: error: the spec is empty: expected a mapping with `name`, `input` and `layers`"
      ])
    #expect(result.exit == 1)
  }

  @Test("a spec path that is a directory, a directory with no specs, and a missing file exit 2")
  func notFiles() throws {
    let dir = try Scratch()
    try FileManager.default.createDirectory(
      atPath: dir.path + "/dir.yaml", withIntermediateDirectories: false)
    var run = CheckRun()
    run.check(dir.path + "/dir.yaml")
    #expect(run.diagnostics.map(\.message) == ["`\(dir.path)/dir.yaml` is a directory"])
    #expect(run.exitCode(werror: false) == 2)

    let empty = check([dir.path])
    #expect(empty.lines == ["-: error: no spec files (*.yaml, *.yml) under `\(dir.path)`"])
    #expect(empty.exit == 2)

    let missing = check([dir.path + "/missing.yaml"])
    #expect(
      missing.lines == [
        "-: error: cannot read `\(dir.path)/missing.yaml`: no such file or directory"
      ])
    #expect(missing.exit == 2)
  }

  @Test("in a directory, YAML files with no netspec, input or layers key are skipped with a note; given by name, checked")
  func nonSpecYAML() throws {
    let dir = try Scratch()
    try FileManager.default.createDirectory(atPath: dir.path + "/sub", withIntermediateDirectories: false)
    _ = dir.file("net.yaml", "name: t\ninput: 8x8x3\nlayers: [CONVV3-4]\n")
    _ = dir.file("sub/only-layers.yml", "layers: [RELU]\n")  // a broken spec: it says it is one
    let workflow = dir.file("ci.yml", "name: CI\non: [push]\njobs: {test: {runs-on: ubuntu-latest}}\n")
    _ = dir.file("sub/weights.yaml", "conv1: {weight: conv1.weight.npy}\n")
    _ = dir.file("list.yaml", "- a\n- b\n")
    _ = dir.file("empty.yaml", "# nothing\n")
    var run = CheckRun()
    run.add(dir.path)
    for file in run.files { run.check(file) }
    run.finish()
    #expect(run.skipped.map { $0.dropFirst(dir.path.count + 1) } == ["ci.yml", "empty.yaml", "list.yaml", "sub/weights.yaml"])
    #expect(Set(run.diagnostics.compactMap(\.range?.file)) == [dir.path + "/net.yaml", dir.path + "/sub/only-layers.yml"])
    #expect(run.skippedNote?.hasPrefix("skipped 4 non-spec YAML files (no `netspec`, `input` or `layers` key): `") == true)
    #expect(run.exitCode(werror: false) == 1)

    let named = check([workflow])
    #expect(named.lines.contains("1:1: error: missing `input`: the input shape, such as `input: 32x32x3`"), "\(named.lines)")

    let none = try Scratch()
    _ = none.file("ci.yml", "name: CI\n")
    let result = check([none.path])
    #expect(result.lines == ["-: error: no spec files under `\(none.path)`: its only YAML file is not a spec"])
    #expect(result.exit == 2)
  }

  @Test("nested repeats that would make 4 * 10^12 layers fail at once")
  func repeatBomb() throws {
    let dir = try Scratch()
    let text =
      "name: t\ninput: 8x8x3\nlayers:\n  - repeat: 2000000\n    layers:\n      - repeat: 2000000\n        layers: [RELU]\n"
    let result = check([dir.file("repeat.yaml", text)])
    #expect(result.lines == ["4:5: error: the spec expands to more than 1000000 layers"])
    // 2,000,000 copies of 2,000,000 RELUs.
    #expect(result.diagnostics.first?.notes.first?.message.hasSuffix("make 4000000000000") == true)
  }

  @Test("blocks that use a block twice, 30 levels deep (2^30 layers), fail before lowering")
  func blockBomb() throws {
    let dir = try Scratch()
    var lines = ["name: t", "input: 8x8x3", "blocks:"]
    for i in 0..<30 {
      lines.append("  b\(i): { layers: [{ block: b\(i + 1) }, { block: b\(i + 1) }] }")
    }
    lines += ["  b30: { layers: [RELU] }", "layers: [{ block: b0 }]"]
    let result = check([dir.file("blocks.yaml", lines.joined(separator: "\n") + "\n")])
    #expect(result.lines == ["35:10: error: the spec expands to more than 1000000 layers"])
    #expect(result.diagnostics.first?.notes.first?.message.hasSuffix("make \(1 << 30)") == true)
  }

  @Test("a repeat inside a block counts with the block's every use")
  func nestedEstimate() throws {
    let dir = try Scratch()
    // 3 uses of a block of 400,000 layers: the third makes 1,200,000 > 1,000,000.
    let text =
      "name: t\ninput: 8x8x3\nblocks:\n  big: { layers: [{ repeat: 400000, layers: [RELU] }] }\nlayers:\n  - block: big\n  - block: big\n  - block: big\n"
    let result = check([dir.file("nested.yaml", text)])
    #expect(result.lines == ["8:5: error: the spec expands to more than 1000000 layers"])
  }

  @Test("directories are searched for *.yaml and *.yml in name order, hidden entries skipped")
  func directories() throws {
    let dir = try Scratch()
    try FileManager.default.createDirectory(
      atPath: dir.path + "/sub/.hidden", withIntermediateDirectories: true)
    let good = "name: t\ninput: 4x4x3\nlayers: [CONV3-2]\n"
    _ = dir.file("b.yml", good)
    _ = dir.file("a.yaml", good)
    _ = dir.file("sub/c.yaml", "name: t\ninput: 4x4x3\n")  // a spec (it has `input`) without layers
    _ = dir.file("sub/.hidden/d.yaml", "not: checked\n")
    _ = dir.file("notes.txt", "not a spec")
    var run = CheckRun()
    run.add(dir.path)
    #expect(run.files == ["a.yaml", "b.yml", "sub/c.yaml"].map { dir.path + "/" + $0 })
    for file in run.files { run.check(file) }
    #expect(run.diagnostics.map(\.code) == [.missingKey])
    #expect(run.exitCode(werror: false) == 1)
  }
}

@Suite("netc check: command line")
struct CheckCommandTests {
  /// The reference specs, from the package's `specs/` folder.
  static let specs = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../specs").standardized.path

  @Test("every reference spec passes with no warnings")
  func referenceSpecs() {
    let result = check([Self.specs])
    #expect(result.diagnostics.map(\.message) == [])
    #expect(result.exit == 0)
    #expect(holdingStandardStreams { Netc.run(["check", "--werror", "--format", "github", Self.specs]) } == 0)
  }

  @Test("usage errors exit 2")
  func usage() {
    #expect(holdingStandardStreams { Netc.run(["check"]) } == 2)
    #expect(holdingStandardStreams { Netc.run(["check", "--format", "xml", Self.specs]) } == 2)
  }

  @Test("a broken spec exits 1 in every format")
  func formats() {
    for format in ["text", "json", "github", "sarif"] {
      #expect(holdingStandardStreams { Netc.run(["check", "--format", format, corpus + "/unknown-op.yaml"]) } == 1)
    }
  }

  @Test("warnings pass unless --werror")
  func werror() {
    #expect(holdingStandardStreams { Netc.run(["check", corpus + "/lint-relu-relu.yaml"]) } == 0)
    #expect(holdingStandardStreams { Netc.run(["check", "--werror", corpus + "/lint-relu-relu.yaml"]) } == 1)
  }
}

@Suite("netc check: JSON Schema corpus")
struct SchemaCorpusTests {
  static let schemaCorpus = Bundle.module.resourcePath! + "/Corpus/schema"

  static let validFiles: [String] = {
    let names =
      (try? FileManager.default.contentsOfDirectory(atPath: schemaCorpus + "/valid")) ?? []
    return names.filter { $0.hasSuffix(".yaml") }.sorted()
  }()

  static let invalidFiles: [String] = {
    let text = (try? String(contentsOfFile: schemaCorpus + "/invalid.txt", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix("#") }
  }()

  // The schema's side runs in scripts/check/validate_schema.sh (check-jsonschema, Python);
  // this is netc's side of the same corpus.
  @Test("specs the schema accepts pass netc check with no warnings", arguments: validFiles)
  func valid(_ name: String) {
    let result = check([Self.schemaCorpus + "/valid/" + name])
    #expect(result.diagnostics.allSatisfy { $0.severity == .note })
    #expect(result.exit == 0)
  }

  @Test("specs the schema rejects fail netc check", arguments: invalidFiles)
  func invalid(_ name: String) {
    #expect(FileManager.default.fileExists(atPath: corpus + "/" + name))
    #expect(check([corpus + "/" + name]).exit == 1)
  }

  @Test("the schema corpus has both sides")
  func sides() {
    #expect(Self.validFiles.count >= 5)
    #expect(Self.invalidFiles.count >= 50)
  }
}
