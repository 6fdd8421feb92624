import NetcDiagnostics
import NetcFrontend
import NetcPasses
import Testing

@testable import NetcBackends

/// The output pass's arena: what a recorded pass allocates, writes and reads against the
/// offset planner's figures for the pass's own schedule, and its output against the
/// unfused `forward`, which keeps every value in an array of its own.
@Suite struct WorkspaceTests {
  /// CNNs (fused convs, a residual written over in place, concat) and transformers
  /// (attention, norms, a mixture-free MLP): each arena must be the planner's, to the byte.
  static let specs: [(text: String, input: [Int])] = [
    (
      "input: 8x8x16\nlayers:\n  - CONV3-16 pad 1\n  - residual:\n      body: [CONV3-16 pad 1, BN, RELU, CONV3-16 pad 1, BN]\n  - RELU\n",
      [8, 8, 16]
    ),
    (
      "input: 9x7x5\nlayers: [CONV3-6 pad 1, BN, RELU6, DWCONV3 pad 1 stride 2, BN, RELU, PWCONV-6 bias false, BN, GAP, FLATTEN, FC-3]",
      [9, 7, 5]
    ),
    (
      "input: 6x6x4\nlayers:\n  - CONV1-4\n  - parallel: {branches: [[CONV1-3], [CONV3-5 pad 1, RELU], [POOL3 stride 1 pad 1]]}\n  - CONV1-2\n",
      [6, 6, 4]
    ),
    (
      "input: 4x8\nlayers:\n  - residual: {body: [LN, ATTN-2 causal]}\n  - residual: {body: [LN, LINEAR-32, GELU, LINEAR-8]}\n  - LN\n",
      [4, 8]
    ),
    (
      "input: 5x8\nlayers:\n  - residual: {body: [RMSNORM, ATTN-4 kv 2 causal rope]}\n  - residual: {body: [RMSNORM, LINEAR-16, SILU, LINEAR-8]}\n",
      [5, 8]
    ),
  ]

  /// A spec's interpreter: BN parameters spread as `InferencePlanTests` spreads them, other
  /// weights seeded.
  static func interpreter<T: TensorScalar>(_ text: String, as: T.Type) throws -> Interpreter<T> {
    if text.contains("BN") { return try InferencePlanTests.interpreter(text, as: T.self, threads: 1) }
    let spec = try SpecLoader.parse(SourceFile(path: "plan.yaml", text: "name: plan\n" + text))
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    let params: [LayerParameters<T>?] = try WeightBinding.bind(analysis.graph, shapes, sources: [], seed: 3)
    return Interpreter(graph: analysis.graph, shapes: shapes, parameters: params, threads: 1)
  }

  @Test(arguments: specs.indices) func measuredArenaIsThePlannedOne(_ i: Int) throws {
    let f = try Self.interpreter(Self.specs[i].text, as: Float.self)
    let x = InferencePlanTests.input(Self.specs[i].input, as: Float.self)
    let (y, usage) = f.outputMeasuringWorkspace(x)
    let planned = f.outputMemory
    #expect(usage.allocations == 1)
    #expect(usage.allocatedElements * 4 == planned.peak)
    #expect(usage.peakLive * 4 == planned.lowerBound)
    #expect(usage.overwrittenReads == 0)
    // The top value's size is rounded up to a 64-byte line in the plan, not in the write.
    #expect(usage.highWater * 4 <= planned.peak && usage.highWater * 4 > planned.peak - 64)
    #expect(InferencePlanTests.relativeError(y, f.forward(x)[f.graph.outputID]) < 1e-5)
    // The arena is kept: a second pass in the cached workspace gives the same output.
    #expect(f.output(x).data == y.data)
  }

  /// A stem conv, then a basic block whose second conv takes BN and the identity shortcut
  /// (the stem's value) and writes over it: 8·8·16 floats = 4,096 B a value. While the
  /// block's first conv runs, the stem's value and its own are live (8,192 B); the second
  /// conv reads both and writes into the stem's buffer, so 8,192 B is the arena. Where the
  /// kernels cannot write over a residual (f64, or no AVX2), the output needs a third
  /// buffer: 12,288 B.
  @Test func residualWrittenInPlaceSharesItsBuffer() throws {
    let f = try InferencePlanTests.interpreter(Self.specs[0].text, as: Float.self, threads: 1)
    let over = f.plan.steps.contains { $0.overResidual }
    #expect(f.outputMemory.peak == (over ? 8_192 : 12_288))
    let d = try InferencePlanTests.interpreter(Self.specs[0].text, as: Double.self, threads: 1)
    #expect(!d.plan.steps.contains { $0.overResidual })
    #expect(d.outputMemory.peak == 3 * 8 * 8 * 16 * 8)
  }

  /// A pre-norm transformer block on 4 positions of width 8, nothing fused: while the GELU
  /// runs, the block's input (4·8 floats), the first LINEAR's output (4·32) and its own
  /// (4·32) are live: (32 + 128 + 128) · 4 = 1,152 B, the most at any step (the second
  /// LINEAR: 32 + 128 + 32 floats; attention: its input, the norm's and its own, 96), and
  /// every size is a multiple of 64 B, so the planner's arena is that bound.
  @Test func transformerBlockArenaByHand() throws {
    let f = try Self.interpreter(Self.specs[3].text, as: Float.self)
    #expect(f.outputMemory.lowerBound == 1_152)
    #expect(f.outputMemory.peak == 1_152)
  }
}
