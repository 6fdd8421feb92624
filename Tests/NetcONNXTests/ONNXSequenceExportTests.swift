import Foundation
import NetcBackends
import NetcDriver
import NetcFrontend
import NetcIR
import NetcONNX
import NetcPasses
import NetcTestSupport
import SwiftProtobuf
import Testing

/// The transformer layers' subgraphs, decoded from the exported bytes. The expectations
/// are the ONNX operator spec's layouts and the formulas written beside them; ONNX Runtime's
/// numbers are checked by scripts/onnx/verify_export.py.
@Suite struct ONNXSequenceExportTests {
  func export(_ text: String) throws -> Onnx_ModelProto {
    let spec = try parseSpec(text)
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(analysis.graph, shapes, sources: [], seed: 0)
    return try Onnx_ModelProto(serializedBytes: Data(try ONNXExport.bytes(analysis.graph, shapes, parameters: params)))
  }

  @Test func groupedQueryAttentionSubgraph() throws {
    // 4 query heads of 16 / 4 = 4, 2 kv heads: each kv head serves G = 2 query heads.
    let m = try export(specText(input: "8x16", layers: ["ATTN-4 kv 2 causal rope name attn"]))
    // Projections stored [in][out], as torch.onnx stores a Linear's weight for MatMul:
    // q 16 -> 4 * 4, k and v 16 -> 2 * 4.
    #expect(initializer(m, "attn.wq")?.dims == [16, 16])
    #expect(initializer(m, "attn.wk")?.dims == [16, 8])
    #expect(initializer(m, "attn.wv")?.dims == [16, 8])
    #expect(initializer(m, "attn.wo")?.dims == [16, 16])
    #expect(initializer(m, "attn.bq")?.dims == [16])
    // [N, T, H*D] -> [N, T, H, D] (0 copies an extent), then queries grouped per kv head.
    #expect(initializer(m, "attn/q_heads.shape")?.int64Data == [0, 0, 4, 4])
    #expect(initializer(m, "attn/k_heads.shape")?.int64Data == [0, 0, 2, 4])
    #expect(initializer(m, "attn/q_groups.shape")?.int64Data == [0, 0, 2, 2, 4])
    #expect(ints(node(m, "attn/q_t"), "perm") == [0, 2, 3, 1, 4])  // [N, Kv, G, T, D]
    #expect(ints(node(m, "attn/k_t"), "perm") == [0, 2, 3, 1])  // [N, Kv, D, S]
    #expect(initializer(m, "attn/k_shared.axes")?.int64Data == [2])  // [N, Kv, 1, D, S] broadcasts over G
    // 1 / sqrt(D) = 1 / 2.
    #expect(floats(initializer(m, "attn.scale")) == [0.5])
    #expect(node(m, "attn/mask")?.opType == "Trilu" && ints(node(m, "attn/mask"), "upper") == [0])
    #expect(floats(initializer(m, "attn.masked")) == [-.infinity])
    #expect(ints(node(m, "attn/probs"), "axis") == [-1])
    // Rotary inverse frequencies theta^(-2i/D) for D = 4: 1 and 10000^(-1/2) = 0.01.
    #expect(floats(initializer(m, "attn/q_rope.inv_freq")) == [1, 0.01])
    #expect(node(m, "attn")?.opType == "Add")  // the output projection's bias
    #expect(dims(m.graph.input[0]) == ["N", "8", "16"])
    #expect(dims(m.graph.output[0]) == ["N", "8", "16"])
    #expect(m.metadataProps.contains { $0.key == "netc.layout.output" && $0.value == "channels last" })
  }

  /// The nodes of a pre-LN block with grouped-query, causal, rotary attention, one per
  /// line: `op name: inputs -> output`. Pins how the subgraph reads, not its numbers.
  @Test func attentionBlockGraphGolden() throws {
    let m = try export(
      specText(
        input: "4 tokens",
        layers: ["EMBED-8 vocab 7 name wte", "residual:\n      body: [RMSNORM name norm, ATTN-2 kv 1 causal rope nobias name attn]"]))
    let lines = m.graph.node.map { n in "\(n.opType) \(n.name): \(n.input.joined(separator: ", ")) -> \(n.output.joined(separator: ", "))" }
    assertGolden(lines.joined(separator: "\n") + "\n", named: "attention-block.nodes.txt")
  }

  @Test func tiedHeadReadsTheEmbeddingTable() throws {
    let m = try export(
      specText(
        input: "6 tokens", layers: ["EMBED-8 vocab 11 name wte", "POSEMBED-6 name wpe", "LN name ln", "LINEAR-11 nobias tie wte name head"]
      ))
    #expect(m.graph.input[0].type.tensorType.elemType == Int32(Onnx_TensorProto.DataType.int64.rawValue))
    #expect(node(m, "wte")?.opType == "Gather" && node(m, "wte")?.input == ["wte.weight", "input"])
    #expect(initializer(m, "wte.weight")?.dims == [11, 8])
    // One initializer: the head multiplies by the table's transpose.
    #expect(initializer(m, "head.weight") == nil)
    #expect(node(m, "head/weight_t")?.input == ["wte.weight"] && ints(node(m, "head/weight_t"), "perm") == [1, 0])
    #expect(node(m, "head")?.opType == "MatMul" && node(m, "head")?.input == ["ln", "head/weight_t"])
    // The table is as long as the sequence: added as it is, [N, 6, 8] + [6, 8].
    #expect(node(m, "wpe")?.input == ["wte", "wpe.weight"])
    #expect(node(m, "ln")?.opType == "LayerNormalization" && ints(node(m, "ln"), "axis") == [-1])
    #expect(dims(m.graph.output[0]) == ["N", "6", "11"])
  }

  @Test func patchesBecomeTokens() throws {
    let m = try export(
      specText(input: "8x8x3", layers: ["CONV4-6 stride 4 name patch", "TOKENS name tokens", "CLSTOKEN name cls", "TAKE name first"]))
    // [N, 6, 2, 2] -> [N, 6, 4] -> [N, 4, 6], as ViT's reshape(n, c, -1).permute(0, 2, 1).
    #expect(initializer(m, "tokens.shape")?.int64Data == [0, 6, -1])
    #expect(node(m, "tokens")?.opType == "Transpose" && ints(node(m, "tokens"), "perm") == [0, 2, 1])
    #expect(initializer(m, "cls.weight")?.dims == [1, 1, 6])
    #expect(node(m, "cls")?.opType == "Concat" && ints(node(m, "cls"), "axis") == [1])
    #expect(node(m, "first")?.opType == "Gather" && ints(node(m, "first"), "axis") == [1])
    let info = Dictionary(uniqueKeysWithValues: m.graph.valueInfo.map { ($0.name, dims($0)) })
    #expect(info["patch"] == ["N", "6", "2", "2"])
    #expect(info["tokens"] == ["N", "4", "6"])
    #expect(info["cls"] == ["N", "5", "6"])
    #expect(dims(m.graph.output[0]) == ["N", "6"])
  }

  @Test func sinusoidalTableIsTheFormula() throws {
    let m = try export(specText(input: "3x4", layers: ["POSEMBED sinusoidal name pe"]))
    let t = floats(initializer(m, "pe.table"))
    #expect(initializer(m, "pe.table")?.dims == [3, 4])
    // PE(p, 2i) = sin(p / 10000^(2i/4)), PE(p, 2i+1) = cos(...): row 1 is sin 1, cos 1,
    // sin 0.01, cos 0.01.
    let row1: [Float] = [Float(sin(1.0)), Float(cos(1.0)), Float(sin(0.01)), Float(cos(0.01))]
    #expect(Array(t[4..<8]) == row1)
  }

  /// With T free the sinusoids are a constant of as many rows as T's domain allows (50
  /// here), so the exported model runs at every length the spec takes, not only at the one
  /// it was bound to (3) for the export.
  @Test func sinusoidalTableOfAFreeLengthCoversItsDomain() throws {
    let text = "netspec: 1\nname: t\ninput: $Tx4\nvars: {T: 1..50}\nlayers:\n  - POSEMBED sinusoidal name pe\n"
    let spec = try parseSpec(text)
    let analysis = try analyze(spec.graph, bindings: ["T": 3])
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(analysis.graph, analysis.shapes, sources: [], seed: 0)
    let symbolic = try analyzeSymbolic(spec.graph, bindings: [:], free: ["T"])
    let m = try Onnx_ModelProto(
      serializedBytes: Data(try ONNXExport.bytes(analysis.graph, analysis.shapes, parameters: params, symbolic: symbolic)))
    #expect(initializer(m, "pe.table")?.dims == [50, 4])
    // Row 49: sin 49, cos 49, sin 0.49, cos 0.49 (the formula above at p = 49).
    let t = floats(initializer(m, "pe.table"))
    let row49: [Float] = [Float(sin(49.0)), Float(cos(49.0)), Float(sin(0.49)), Float(cos(0.49))]
    #expect(zip(t[196..<200], row49).allSatisfy { abs($0 - $1) <= 1e-6 })
    #expect(node(m, "pe/rows")?.opType == "Slice")
  }

  @Test func spatialRearrangements() throws {
    let m = try export(
      specText(
        input: "6x6x4",
        layers: [
          "PAD pad 0:1,1:2 name pad", "SHUFFLE-2 name shuffle", "UPSAMPLE-2 name up", "UPSAMPLE size 7x9 mode bilinear name down",
          "RMSNORM name rms",
        ]))
    // [N, C, H, W] pads: begins (N, C, H, W) then ends: H 0 before 1 after, W 1 and 2.
    #expect(initializer(m, "pad.pads")?.int64Data == [0, 0, 0, 1, 0, 0, 1, 2])
    // C = 4 as [G = 2][2], transposed; back to [N, 4, 7, 9] (6 + 0 + 1, 6 + 1 + 2).
    #expect(initializer(m, "shuffle.groups")?.int64Data == [0, 2, 2, -1])
    #expect(initializer(m, "shuffle.shape")?.int64Data == [0, 4, 7, 9])
    #expect(floats(initializer(m, "up.scales")) == [1, 1, 2, 2])
    // 14x18 to 7x9: scales 0.5, which give the sizes back exactly.
    #expect(floats(initializer(m, "down.scales")) == [1, 1, 0.5, 0.5])
    #expect(node(m, "down")?.attribute.first { $0.name == "coordinate_transformation_mode" }?.s == Data("pytorch_half_pixel".utf8))
    // RMSNorm over the channels, axis 1 of NCHW; gamma [C, 1, 1] broadcasts over H and W.
    #expect(ints(node(m, "rms/mean"), "axes") == [1])
    #expect(initializer(m, "rms.gamma")?.dims == [4, 1, 1])
    #expect(dims(m.graph.output[0]) == ["N", "4", "7", "9"])
  }

  @Test func commandKeepsTheSequenceLengthSymbolic() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-onnx-t\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let spec = dir.appendingPathComponent("g.yaml").path, out = dir.appendingPathComponent("g.onnx").path
    try
      "name: g\ninput: $T tokens\nvars: {T: 1..32}\nlayers:\n  - EMBED-8 vocab 5 name e\n  - POSEMBED-32 name p\n  - ATTN-2 causal name a\n"
      .write(toFile: spec, atomically: true, encoding: .utf8)
    #expect(holdingStandardStreams { Netc.run(["export", spec, "--to", "onnx", "-o", out, "--set", "T=4"]) } == 0)
    let m = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: out)))
    #expect(dims(m.graph.input[0]) == ["N", "T"])
    #expect(dims(m.graph.output[0]) == ["N", "T", "8"])
    // A free T reads the first T rows of the 32-row table at run time.
    #expect(node(m, "p/length")?.opType == "Shape" && node(m, "p/rows")?.opType == "Slice")
    #expect(m.metadataProps.contains { $0.key == "netc.dim.T" })
  }
}
