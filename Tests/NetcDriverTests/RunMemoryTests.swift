import Foundation
import NetcTestSupport
import Testing

/// `netc run --memory` on specs/small-cnn.yaml. The output pass fuses each conv with its
/// ReLU and reads the input in place; while pool1 runs, conv1's output (32·32·10 values)
/// and pool1's (16·16·10) are live: (10,240 + 2,560) · 4 = 51,200 bytes, and every later
/// value fits in the arena's room freed behind them. `analyze --memory` plans every layer's
/// value apart: conv1's and relu1's outputs live together, 2 · 40,960 = 81,920 bytes.
/// FLATTEN runs on arrays: its 3·3·20 inputs copied out and its output, 2 · 180 · 4 = 1,440
/// bytes outside the arena.
@Suite(.serialized)
struct RunMemoryTests {
  static let input =
    "["
    + Array(repeating: "[" + Array(repeating: "[0.5, 0.5, 0.5]", count: 32).joined(separator: ", ") + "]", count: 32)
    .joined(separator: ", ") + "]"

  @Test func jsonSetsTheMeasuredWorkspaceBesideThePlannedArena() throws {
    let result = try NetcProcess.run(["run", "specs/small-cnn.yaml", "--input", Self.input, "--memory", "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let w = try #require(object["workspace"] as? [String: Any])
    #expect(w["allocated_bytes"] as? Int == 51_200)
    #expect(w["buffers"] as? Int == 1)
    #expect(w["requests"] as? Int == 6)
    #expect(w["peak_lent_bytes"] as? Int == 51_200)
    #expect(w["high_water_bytes"] as? Int == 51_200)
    #expect(w["overwritten_reads"] as? Int == 0)
    #expect(w["planned_bytes"] as? Int == 51_200)
    #expect(w["lower_bound_bytes"] as? Int == 51_200)
    #expect(w["analyze_planned_bytes"] as? Int == 81_920)
    #expect(w["heap_bytes"] as? Int == 1_440)
    #expect(w["heap_layer"] as? String == "flatten1")
  }

  @Test func textAddsTheWorkspaceLinesAndGradRefusesIt() throws {
    let text = try NetcProcess.run(["run", "specs/small-cnn.yaml", "--input", Self.input, "--memory"]).stdout
    #expect(
      text.contains(
        "  measured: 51,200 B (50.00 KiB) allocated in 1 arena for 6 values, at most 51,200 B (50.00 KiB) live at once, highest byte written 51,200 B (50.00 KiB)\n"
          + "  planned:  51,200 B (50.00 KiB) by the offset planner for this pass (lower bound 51,200 B (50.00 KiB))\n"),
      "\(text)")
    let without = try NetcProcess.run(["run", "specs/small-cnn.yaml", "--input", Self.input]).stdout
    #expect(!without.contains("workspace"))
    let grad = try NetcProcess.run(["run", "specs/small-cnn.yaml", "--input", Self.input, "--memory", "--trace"])
    #expect(grad.status == 2, "\(grad.status)")
    #expect(grad.stderr.contains("--memory measures the output pass"))
  }

  /// A GPT-style network at T = 4, width 8, vocabulary 16 (`TIED` off): the LM head's
  /// 4·16 logits beside the final norm's 4·8 values, (64 + 32) · 4 = 384 B, is its largest
  /// step, and the block's MLP (4·32 twice beside the 4·8 residual, 1,152 B) larger still:
  /// the arena is 1,152 B, measured as planned.
  @Test func transformerArenaMeasuredAsPlanned() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-memory-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let spec = dir.appendingPathComponent("gpt.yaml").path
    try """
    name: tiny-gpt
    input: 4 tokens
    layers:
      - EMBED-8 vocab 16
      - POSEMBED-8
      - residual: {body: [LN, ATTN-2 causal]}
      - residual: {body: [LN, LINEAR-32, GELU, LINEAR-8]}
      - LN
      - LINEAR-16
    """.write(toFile: spec, atomically: true, encoding: .utf8)
    let result = try NetcProcess.run(["run", spec, "--input", "[1, 2, 3, 4]", "--memory", "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let w = try #require(object["workspace"] as? [String: Any])
    #expect(w["planned_bytes"] as? Int == 1_152)
    #expect(w["allocated_bytes"] as? Int == 1_152)
    #expect(w["lower_bound_bytes"] as? Int == 1_152)
    #expect(w["peak_lent_bytes"] as? Int == 1_152)
    #expect(w["overwritten_reads"] as? Int == 0)
  }
}
