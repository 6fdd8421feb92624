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

  /// A mixture's active figures and the memory figures reach every format of one report
  /// and of a comparison. Mixtral-8x7B: 46,702,792,704 params, 12,879,925,248 active
  /// (mistral.ai's 46.7B / 12.9B; the spec's reference test checks both against
  /// transformers); fp32 weights 4 B per parameter; KV cache 2 · 32 layers · 8 kv heads ·
  /// 128 · T · 4 B = 262,144 · T B.
  @Test func activeAndMemoryFiguresInEveryFormat() throws {
    let mixtral = "specs/mixtral_8x7b.yaml", llama = "specs/llama3_8b.yaml"
    let weights = 46_702_792_704 * 4, cache = 262_144 * 16
    let csv = try NetcProcess.run(["analyze", mixtral, "--set", "T=16", "--format", "csv"]).stdout
    #expect(
      csv.hasPrefix(
        "spec,name,op,depth,output,params,buffers,macs,activations,active_params,active_macs,weight_bytes,kv_cache_bytes\n"))
    let total = csv.split(separator: "\n").last!.split(separator: ",", omittingEmptySubsequences: false)
    #expect(total[5] == "46702792704" && total[9] == "12879925248")
    #expect(total[11] == "\(weights)" && total[12] == "\(cache)")
    let markdown = try NetcProcess.run(["analyze", mixtral, "--set", "T=16", "--format", "markdown"]).stdout
    #expect(markdown.contains("| active params | 12,879,925,248 |"))
    #expect(markdown.contains("| KV cache | 4,194,304 B (4.00 MiB) at fp32, one sequence |"))

    let compare = ["analyze", "--compare", mixtral, llama, "--set", "T=16"]
    let table = try NetcProcess.run(compare).stdout
    // Llama-3-8B: 8,030,261,248 params (its spec's reference), all of them active.
    #expect(table.contains("active params           12,879,925,248    8,030,261,248"))
    #expect(table.contains("weight bytes (fp32)    186,811,170,816   32,121,044,992"))
    #expect(table.contains("KV cache bytes (fp32)        4,194,304        4,194,304"))
    let json = try NetcProcess.run(compare + ["--format", "json"]).stdout
    let items = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
    let totals = try #require(items.map { $0["totals"] as? [String: Any] } as? [[String: Any]])
    #expect(totals[0]["active_params"] as? Int == 12_879_925_248 && totals[1]["active_params"] as? Int == 8_030_261_248)
    #expect(totals[0]["weight_bytes"] as? Int == weights && totals[1]["kv_cache_bytes"] as? Int == cache)
    #expect(totals[0]["dtype"] as? String == "fp32")
    let ratios = try #require(items[1]["ratios"] as? [String: Any])
    let ratio = try #require(ratios["active_params"] as? Double)
    #expect(abs(ratio - 8_030_261_248 / 12_879_925_248.0) < 1e-12)
    let comparedCSV = try NetcProcess.run(compare + ["--format", "csv"]).stdout
    #expect(
      comparedCSV.hasPrefix("spec,input,output,params,active_params,buffers,macs,active_macs,activations,weight_bytes,kv_cache_bytes\n"))
    let comparedMarkdown = try NetcProcess.run(compare + ["--format", "markdown"]).stdout
    #expect(comparedMarkdown.contains("| active params | 12,879,925,248 (1.000x) | 8,030,261,248 (0.623x) |"))
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
