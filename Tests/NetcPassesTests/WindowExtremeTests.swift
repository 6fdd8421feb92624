import NetcPasses
import NetcTestSupport
import Testing

/// Window arithmetic at extents, strides and dilations near 2^63 (ONNX's overflow test,
/// varied): a well-defined output is computed without overflow, the rest is a located
/// error (the failing cases are in the broken-spec corpus, `overflow-same-*.yaml`).
struct WindowExtremeTests {
  static let big = Int.max  // 2^63 - 1

  @Test(
    "windows whose arithmetic would overflow in the textbook formula but whose output is defined",
    arguments: [
      // same: out = ceil(8 / (2^63 - 1)) = 1; total padding max(0 + 2 + 1 - 8, 0) = 0.
      ("CONV3-4 stride \(big) pad same", [1, 1, 4]),
      // same with stride = kernel = 2^63 - 1: out = 1, total padding (k - 1) + 1 - 8 = 2^63 - 9.
      ("POOL\(big) pad same", [1, 1, 3]),
      // ceil((8 + 2 - 3) / s) + 1 = 2, and the second window would start at s >= 8 + 1: 1.
      ("AVGPOOL3 stride \(big) pad 1 round ceil", [1, 1, 3]),
      ("POOL3 stride \(1 << 62) pad 1 round ceil", [1, 1, 3]),
      // same, stride 2^63 - 2, ceil: out = ceil(8 / s) = 1.
      ("POOL2 stride \(big - 1) pad same round ceil", [1, 1, 3]),
    ])
  func definedOutputs(_ layer: String, _ shape: [Int]) throws {
    let a = try analyzeSpec(specText(input: "8x8x3", layers: [layer]))
    #expect(a.shapes[a.graph.outputID] == shape)
  }
}
