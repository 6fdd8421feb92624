import Foundation
import NetcTestSupport
import Testing

/// `netc analyze --train` end to end on specs/small-cnn.yaml. Saved per example (4 bytes a
/// value, 8 an index): conv1's input 3072·4 = 12,288, relu1's output 10240·4 = 40,960 (pool1's
/// input too), pool1's indices 2560·8 = 20,480, conv2's input 2560·4 = 10,240, relu2's output
/// 720·4 = 2,880, pool2's indices 180·8 = 1,440, fc1's input 180·4 = 720: 89,008 bytes.
@Suite(.serialized)
struct AnalyzeTrainTests {
  @Test func jsonCarriesTheStep() throws {
    let result = try NetcProcess.run([
      "analyze", "specs/small-cnn.yaml", "--train", "--optimizer", "momentum", "--batch", "8", "--format", "json",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let t = try #require(object["training"] as? [String: Any])
    let saved = try #require(t["saved_for_backward"] as? [String: Any])
    #expect(saved["per_example_bytes"] as? Int == 89_008)
    #expect(saved["bytes"] as? Int == 8 * 89_008)
    // 3,910 params: weights, gradients and one momentum copy at 4 bytes each.
    #expect(t["optimizer_state_bytes"] as? Int == 3_910 * 4)
    #expect((t["step_bytes"] as? [String: Any])?["bytes"] as? Int == 8 * 89_008 + 3 * 3_910 * 4)
    let layers = try #require(object["layers"] as? [[String: Any]])
    #expect(layers.first?["saved_bytes"] as? Int == 8 * 12_288)
    #expect(layers.first?["backward_input_macs"] as? Int == 0)
  }

  @Test func tableShowsClosedForms() throws {
    let table = try NetcProcess.run(["analyze", "specs/small-cnn.yaml", "--train"]).stdout
    #expect(table.contains("total saved for backward              89,008 B (86.92 KiB) at batch 1 = 89,008·B at fp32"))
    // AdamW by default: 4 + 4 + 8 bytes a parameter.
    #expect(table.contains("total training step memory            151,568 B (148.02 KiB) at batch 1 = 89,008·B + 62,560, fp32"))
  }

  /// ResNet-50 with AdamW in 16 GiB: PyTorch saves 2,749,529,088 B at batch 32 =
  /// 32 · 85,909,504 + 424,960 (BN statistics); AdamW at fp32 adds 16 · 25,557,032 params =
  /// 408,912,512 B; floor((16 · 2^30 − 424,960 − 408,912,512) / 85,909,504) = 195.
  @Test func largestBatchThatTrainsResNet50() throws {
    let result = try NetcProcess.run(["analyze", "specs/resnet50.yaml", "--train", "--fit", "16 GiB", "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let t = try #require(object["training"] as? [String: Any])
    #expect((t["saved_for_backward"] as? [String: Any])?["per_example_bytes"] as? Int == 85_909_504)
    #expect(t["largest_batch"] as? Int == (16 * (1 << 30) - 424_960 - 16 * 25_557_032) / 85_909_504)
    #expect(t["largest_batch"] as? Int == 195)
  }

  @Test func misuseIsAUsageError() throws {
    for args in [
      ["--optimizer", "adam"], ["--train", "--mixed-precision", "int8"], ["--train", "--format", "csv"], ["--fit", "1 GiB"],
      ["--train", "--fit", "lots"],
    ] {
      let result = try NetcProcess.run(["analyze", "specs/small-cnn.yaml"] + args)
      #expect(result.status == 2, "\(args)")
    }
    let free = try NetcProcess.run(["analyze", "specs/gpt2.yaml", "--train"])
    #expect(free.status == 2)
    #expect(free.stderr.contains("--train needs every var of `specs/gpt2.yaml` bound"))
  }
}
