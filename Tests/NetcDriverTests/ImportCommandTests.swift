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
