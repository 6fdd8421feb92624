import Foundation
import NetcTestSupport
import Testing

/// `netc import` and `netc analyze model.onnx` on the models of
/// Tests/NetcONNXTests/Fixtures/import (their figures and outputs are checked against
/// PyTorch and ONNX Runtime in NetcONNXTests; here the commands, files and exit codes).
@Suite struct ImportCommandTests {
  static let fixtures = "Tests/NetcONNXTests/Fixtures/import"

  func totals(_ stdout: String) throws -> [String: Int] {
    let json = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
    let t = try #require(json["totals"] as? [String: Any])
    return ["params": t["params"] as? Int ?? -1, "buffers": t["buffers"] as? Int ?? -1, "macs": t["macs"] as? Int ?? -1]
  }

  @Test func importWritesSpecAndWeightsThatRun() throws {
    let dir = NSTemporaryDirectory() + "netc-import-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let spec = dir + "/residual.yaml", weights = dir + "/w"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let r = try NetcProcess.run(["import", "\(Self.fixtures)/residual.onnx", "-o", spec, "--weights-out", weights])
    #expect(r.status == 0, "\(r.stderr)")
    // stem, 2 blocks of 3 layers + add, the shortcut's conv, 2 ReLUs, GAP, FLATTEN, FC:
    // 1 + 4 + 5 + 2 + 3 = 15 layers; weights: 6 convs x (weight, bias) + FC's 2 = 14 files.
    #expect(r.stdout == "wrote \(spec): 15 layers from ONNX opset 13; 14 weight files in \(weights)\n")
    let files = try FileManager.default.contentsOfDirectory(atPath: weights)
    #expect(files.count == 14)
    #expect(files.contains("block2.shortcut.downsample_0.weight.npy"))
    // An 8x8x3 input of ones, channels last as `run` reads it.
    let row = "[" + Array(repeating: "[1,1,1]", count: 8).joined(separator: ",") + "]"
    let input = "[" + Array(repeating: row, count: 8).joined(separator: ",") + "]"
    let run = try NetcProcess.run(["run", spec, "--weights", weights, "--input", input, "--format", "json"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("\"output\": ["), "\(run.stdout)")
    let analyzeSpec = try NetcProcess.run(["analyze", spec, "--format", "json"])
    let analyzeModel = try NetcProcess.run(["analyze", "\(Self.fixtures)/residual.onnx", "--format", "json"])
    #expect(analyzeSpec.status == 0 && analyzeModel.status == 0, "\(analyzeModel.stderr)")
    #expect(try totals(analyzeSpec.stdout) == totals(analyzeModel.stdout))
  }

  @Test func importPrintsTheSpecWithoutOutput() throws {
    let r = try NetcProcess.run(["import", "\(Self.fixtures)/cnn_bn_kept.onnx"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("\nname: cnn_bn_kept\ninput: 8x8x3\n"))
  }

  /// BERT with its optional inputs: analyze and import warn (NS604) for each input read as
  /// its default, and succeed; the figures are BERT's (22,496 params, PyTorch's count,
  /// Fixtures/import/transformers.json).
  @Test func optionalInputsAreWarnings() throws {
    let model = "\(Self.fixtures)/bert_tiny_inputs.onnx"
    let r = try NetcProcess.run(["analyze", model, "--set", "T=8", "--format", "json"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try totals(r.stdout)["params"] == 22496)
    #expect(r.stderr.contains("warning[NS604]: `\(model)`: input `attention_mask` read as all ones"), "\(r.stderr)")
    #expect(r.stderr.components(separatedBy: "warning[NS604]").count - 1 == 2, "\(r.stderr)")
    let imported = try NetcProcess.run(["import", model])
    #expect(imported.status == 0 && imported.stderr.contains("warning[NS604]"), "\(imported.stderr)")
  }

  /// `--partial`: exit 0, a warning per node left out, the spec's figures (PyTorch's for
  /// conv1 and relu, the layers before ELU: 4 * 27 + 4 = 112 params, 4 * 64 * 27 = 6912
  /// MACs) and JSON's `unimported`.
  @Test func partialAnalyzesWhatItCanAndListsTheRest() throws {
    let model = "\(Self.fixtures)/partial_elu.onnx"
    let refused = try NetcProcess.run(["analyze", model])
    #expect(refused.status == 1 && refused.stderr.contains("error[NS602]"), "\(refused.stderr)")
    let r = try NetcProcess.run(["analyze", model, "--partial", "--format", "json"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try totals(r.stdout) == ["params": 112, "buffers": 0, "macs": 6912])
    #expect(r.stderr.components(separatedBy: "warning[NS603]").count - 1 == 5, "\(r.stderr)")
    #expect(r.stderr.contains("`\(model)`: node `/elu/Elu` (Elu) not imported: has op type `Elu`, which netc does not import"))
    let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    let left = try #require(json["unimported"] as? [[String: String]])
    #expect(left.map { $0["node"] ?? "" } == ["/elu/Elu", "/conv2/Conv", "/GlobalAveragePool", "/Flatten", "/fc/Gemm"])
    #expect(
      left[1] == [
        "node": "/conv2/Conv", "op": "Conv", "reason": "reads the output (`/elu/Elu_output_0`) of `/elu/Elu`, which is not imported",
      ])

    let spec = NSTemporaryDirectory() + "netc-partial-" + UUID().uuidString + ".yaml"
    defer { try? FileManager.default.removeItem(atPath: spec) }
    let imported = try NetcProcess.run(["import", model, "--partial", "-o", spec])
    #expect(imported.status == 0, "\(imported.stderr)")
    #expect(imported.stdout == "wrote \(spec): 2 layers from ONNX opset 17; 5 nodes not imported (--partial)\n")
    #expect(imported.stderr.contains("warning[NS603]"))
    // A spec with no .onnx has nothing to import partially.
    let usage = try NetcProcess.run(["analyze", spec, "--partial"])
    #expect(usage.status == 2 && usage.stderr.contains("--partial imports what it can of an .onnx model"), "\(usage.stderr)")
  }

  @Test(arguments: [
    ("unknown_op.onnx", Int32(1), "error[NS602]"), ("truncated.onnx", 1, "error[NS601]"), ("absent.onnx", 2, "error[NS001]"),
  ])
  func failures(file: String, status: Int32, words: String) throws {
    for command in [["import"], ["analyze"]] {
      let r = try NetcProcess.run(command + ["\(Self.fixtures)/\(file)"])
      #expect(r.status == status, "\(command) \(file): \(r.stderr)")
      #expect(r.stderr.contains(words), "\(r.stderr)")
    }
  }
}
