import Foundation
import NetcTestSupport
import Testing

/// `netc run --memory` on specs/small-cnn.yaml. The output pass fuses each conv with its
/// ReLU and reads the input in place; while pool1 runs, conv1's output (32·32·10 values)
/// and pool1's (16·16·10) are lent: (10,240 + 2,560) · 4 = 51,200 bytes, and every later
/// value fits in the two buffers freed behind them. `analyze --memory` plans every layer's
/// value apart: conv1's and relu1's outputs live together, 2 · 40,960 = 81,920 bytes.
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
    #expect(w["buffers"] as? Int == 2)
    #expect(w["peak_lent_bytes"] as? Int == 51_200)
    #expect(w["planned_bytes"] as? Int == 51_200)
    #expect(w["lower_bound_bytes"] as? Int == 51_200)
    #expect(w["analyze_planned_bytes"] as? Int == 81_920)
  }

  @Test func textAddsTheWorkspaceLinesAndGradRefusesIt() throws {
    let text = try NetcProcess.run(["run", "specs/small-cnn.yaml", "--input", Self.input, "--memory"]).stdout
    #expect(
      text.contains("  measured: 51,200 B (50.00 KiB) allocated in 2 buffers for 6 values, at most 51,200 B (50.00 KiB) lent at once"),
      "\(text)")
    let without = try NetcProcess.run(["run", "specs/small-cnn.yaml", "--input", Self.input]).stdout
    #expect(!without.contains("workspace"))
    let grad = try NetcProcess.run(["run", "specs/small-cnn.yaml", "--input", Self.input, "--memory", "--trace"])
    #expect(grad.status == 2, "\(grad.status)")
    #expect(grad.stderr.contains("--memory measures the output pass"))
  }
}
