import Foundation
import NetcTestSupport
import Testing

/// `netc analyze` end to end: whole outputs pinned by golden files (their numbers are
/// checked independently in NetcPassesTests), exit codes and error output.
@Suite(.serialized)
struct AnalyzeCommandTests {
  @Test(arguments: [
    (["analyze", "specs/small-cnn.yaml"], "small-cnn.table.txt"),
    (["analyze", "specs/small-cnn.yaml", "--format", "json"], "small-cnn.json"),
    (["analyze", "specs/small-cnn.yaml", "--format", "markdown"], "small-cnn.md"),
    (["analyze", "specs/small-cnn.yaml", "--format", "csv"], "small-cnn.csv"),
    (["analyze", "specs/resnet18.yaml", "--depth", "1"], "resnet18.depth1.table.txt"),
    (["analyze", "--explain", "specs/small-cnn.yaml"], "small-cnn.explain.txt"),
    (["analyze", "--explain", "--layer", "conv2", "--format", "json", "specs/small-cnn.yaml"], "small-cnn.explain-conv2.json"),
    (["analyze", "--explain", "specs/solve-find-k.yaml"], "solve-find-k.explain.txt"),
    (["analyze", "--explain", "--format", "json", "specs/solve-find-k.yaml"], "solve-find-k.explain.json"),
    (["analyze", "--explain", "--layer", "h.1.residual1.body.attn", "specs/gpt2.yaml"], "gpt2-attn.explain.txt"),
    (["analyze", "specs/inception-block.yaml", "--batch", "8", "--format", "json"], "inception.batch8.json"),
    (["analyze", "--compare", "specs/conv3x3-30x30x20.yaml", "specs/sepconv3x3-30x30x20.yaml"], "conv-vs-sepconv.compare.txt"),
    (
      ["analyze", "--compare", "--format", "json", "specs/conv3x3-30x30x20.yaml", "specs/sepconv3x3-30x30x20.yaml"],
      "conv-vs-sepconv.compare.json"
    ),
    (["analyze", "--format", "json", "specs/conv3x3-30x30x20.yaml", "specs/sepconv3x3-30x30x20.yaml"], "two-specs.json"),
  ])
  func outputMatchesGolden(arguments: [String], golden: String) throws {
    let result = try NetcProcess.run(arguments)
    #expect(result.status == 0, "\(result.stderr)")
    assertGolden(result.stdout, named: golden)
  }

  @Test func jsonIsValidAndCarriesExactNumbers() throws {
    let result = try NetcProcess.run(["analyze", "specs/resnet50.yaml", "--format", "json"])
    let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let totals = try #require(object["totals"] as? [String: Int])
    // torchvision's published count for ResNet-50.
    #expect(totals["params"] == 25_557_032)
    #expect((object["layers"] as? [Any])?.isEmpty == false)
  }

  @Test func batchScalesMACsAndActivationsNotParams() throws {
    let one = try NetcProcess.run(["analyze", "specs/small-cnn.yaml", "--format", "csv"]).stdout
    let four = try NetcProcess.run(["analyze", "specs/small-cnn.yaml", "--format", "csv", "--batch", "4"]).stdout
    func totals(_ csv: String) -> [Int] {
      csv.split(separator: "\n").last!.split(separator: ",", omittingEmptySubsequences: false).suffix(4).map { Int($0)! }
    }
    let (a, b) = (totals(one), totals(four))
    #expect(b == [a[0], a[1], 4 * a[2], 4 * a[3]])
  }

  @Test(
    arguments: [
      // arguments, exit code, a line stderr must contain
      (["analyze", "specs/no-such-file.yaml"], Int32(2), "error[NS001]: cannot read `specs/no-such-file.yaml`"),
      (["analyze", "specs"], Int32(2), "is a directory"),
      (["analyze", "specs/small-cnn.yaml", "--batch", "0"], Int32(2), "out of range"),
      (["analyze", "specs/small-cnn.yaml", "--format", "xml"], Int32(2), "xml"),
      (["analyze", "specs/small-cnn.yaml", "--set", "k"], Int32(2), "must be `name=integer`"),
      (["frobnicate"], Int32(2), "frobnicate"),
    ] as [([String], Int32, String)])
  func usageAndIOErrorsExitTwo(arguments: [String], status: Int32, message: String) throws {
    let result = try NetcProcess.run(arguments)
    #expect(result.status == status)
    #expect(result.stderr.contains(message), "\(result.stderr)")
  }

  @Test func aWrongSpecExitsOneWithACaret() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-analyze-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("net.yaml")
    try "name: t\ninput: 8x8x3\nlayers:\n  - CONVV3-20 stride 2 pad 3\n".write(to: file, atomically: true, encoding: .utf8)
    let result = try NetcProcess.run(["analyze", file.path])
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty)
    #expect(
      result.stderr == """
        \(file.path):4:5: error[NS104]: unknown layer kind `CONVV`
          - CONVV3-20 stride 2 pad 3
            ^~~~~
        \(file.path):4:5: note: did you mean `CONV`?

        """)
  }

  @Test func goodSpecsStillReportWhenAnotherFails() throws {
    let result = try NetcProcess.run(["analyze", "--format", "csv", "specs/small-cnn.yaml", "specs/missing.yaml"])
    #expect(result.status == 2)
    #expect(result.stdout.contains("small-cnn,total"))
  }

  @Test func freeVarsNeedBindingsWhereOnlyNumbersFit() throws {
    let csv = try NetcProcess.run(["analyze", "--format", "csv", "specs/solve-find-k.yaml"])
    #expect(csv.status == 2)
    #expect(csv.stderr.contains("--format csv needs every var of `specs/solve-find-k.yaml` bound: give --set k=N"))
    // With k bound the same spec has numbers: 9*9*10*96 + 96 = 77,856 params.
    let bound = try NetcProcess.run(["analyze", "--format", "csv", "--set", "k=9", "specs/solve-find-k.yaml"])
    #expect(bound.status == 0)
    #expect(bound.stdout.contains("solve-find-k,total,,,66x66x96,77856,"))
  }

  @Test func mixedSymbolicAndNumericSpecsMakeOneJSONArray() throws {
    let result = try NetcProcess.run(["analyze", "--format", "json", "specs/small-cnn.yaml", "specs/solve-find-k.yaml"])
    #expect(result.status == 0)
    let array = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
    #expect(array.map { $0["name"] as? String } == ["small-cnn", "solve-find-k"])
  }
}
