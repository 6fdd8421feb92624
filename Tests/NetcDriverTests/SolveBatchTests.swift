import Foundation
import NetcTestSupport
import Testing

/// `netc solve` of a memory budget's batch, end to end.
@Suite(.serialized)
struct SolveBatchTests {
  /// specs/solve-resnet50-train-batch.yaml: (16 GiB − 409,337,472) / 85,909,504 = 195.2, the
  /// constant and the slope from PyTorch's saved-tensor count and 16 bytes a parameter.
  @Test func resNet50sLargestTrainingBatchIn16GiB() throws {
    let start = Date()
    let table = try NetcProcess.run(["solve", "specs/solve-resnet50-train-batch.yaml"])
    let seconds = Date().timeIntervalSince(start)
    #expect(table.status == 0, "\(table.stderr)")
    // 409,337,472 + 195 · 85,909,504 = 17,161,690,752.
    #expect(
      table.stdout == """
        resnet50-train-batch: 195 solutions
        every value of: B ∈ 1..195
        at batch 195: training 17,161,690,752 B (15.98 GiB), budget <= 17,179,869,184 B (16.00 GiB)

        """)
    // A debug build on a shared machine: the process, loading ResNet-50 and the bisection.
    #expect(seconds < 2, "\(seconds) s")
    let json = try NetcProcess.run(["solve", "specs/solve-resnet50-train-batch.yaml", "--count", "--format", "json"])
    #expect(json.stdout == "{\"vars\": [\"B\"], \"count\": 195, \"range\": {\"B\": [1, 195]}}\n")
  }

  @Test func aTrainingBudgetBesideAVarInALayerIsRefusedWithItsReason() throws {
    let file = NSTemporaryDirectory() + "netc-solve-batch-\(UUID().uuidString).yaml"
    try """
    name: t
    input: 32x32x3
    vars: {B: 1..100, k: 1..5}
    budget: {training: "<= 1 GiB", batch: $B}
    layers: [CONV$k-8, RELU]
    """.write(toFile: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: file) }
    let result = try NetcProcess.run(["solve", file])
    #expect(result.status == 1)
    #expect(
      result.stderr.contains(
        "4:20: error[NS305]: a `training` budget is solved with one free var, the budget's `batch` or a length of the input; `B`, `k` are free here"
      ), "\(result.stderr)")
    let bound = try NetcProcess.run(["solve", file, "--set", "k=3", "--count"])
    #expect(bound.stdout.contains("every value of: B ∈ 1..100"), "\(bound.stdout)")
  }
}
