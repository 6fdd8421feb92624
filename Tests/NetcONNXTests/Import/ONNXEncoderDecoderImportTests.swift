import Foundation
import NetcBackends
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcONNX
import NetcPasses
import NetcTestSupport
import Testing

/// Imports the encoder-decoder of Fixtures/import (a tiny translation model written in
/// PyTorch, exported by torch.onnx.export: scripts/onnx/generate_encoder_decoder_fixtures.py):
/// two token inputs become `inputs:` and `from:`, the decoder's second attention `cross` the
/// encoder's last layer. analyze's parameters against PyTorch's count and `run` on the
/// written weights against ONNX Runtime's output, both stored by the script.
@Suite struct ONNXEncoderDecoderImportTests {
  static let folder = ONNXImportTests.folder

  struct Expected: Decodable {
    var params: Int
    var input_shapes: [String: [Int]]
    var output_shape: [Int]
  }

  /// Imports `name`.onnx and checks its figures and its output; returns the spec's text.
  @discardableResult
  func check(_ name: String) throws -> String {
    let imported = try ONNXImport.read(Self.folder + "/\(name).onnx")
    let table = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/encoder_decoder.json"))
    let want = try #require(try JSONDecoder().decode([String: Expected].self, from: table)[name])
    let spec = try SpecLoader.parse(SourceFile(path: "\(name).yaml", text: imported.text))
    let graph = spec.graph
    let several = want.input_shapes.count > 1
    #expect(graph.namedInputs.map(\.name) == (several ? ["src", "tgt"] : []), "\(imported.text)")
    // Symbolic lengths written back as vars, one per input in the inputs' order, are bound
    // to the fixture's.
    var bindings: [String: Int] = [:]
    for (input, v) in zip(["src", "tgt"], graph.vars) { bindings[v.name] = want.input_shapes[input]![0] }
    let analysis = try analyze(graph, bindings: bindings)
    #expect(analysis.costs.total.params == want.params, "\(imported.text)")

    let params = try ONNXImportTests.parameters(imported, analysis)
    let interpreter = Interpreter(graph: analysis.graph, shapes: analysis.shapes, parameters: params, threads: 1)
    let ids = try JSONDecoder().decode(
      [String: [Float]].self, from: Data(contentsOf: URL(fileURLWithPath: Self.folder + "/\(name).input.json")))
    let inputs = analysis.graph.namedInputs
    // Token ids `[T]`, or vectors `[L, C]` (channels last, as ONNX's `[1, L, C]` without the batch).
    let src = Tensor(shape: want.input_shapes["src"]!, data: ids["src"]!)
    let y: Tensor<Float>
    if several {
      let tgt = Tensor(shape: want.input_shapes["tgt"]!, data: ids["tgt"]!)
      y = interpreter.output(src, others: [inputs[1].node: tgt])
    } else {
      y = interpreter.output(src)
    }
    try ONNXTransformerImportTests.expectReference(y, name, shape: want.output_shape)
    return imported.text
  }

  /// Both lengths dynamic, by the TorchScript and the dynamo exporter: `$S` and `$T`
  /// written back (folded at different lengths, so that the source's and the target's are
  /// told apart), the tutorial's sinusoid buffer as `POSEMBED sinusoidal` (no parameter, as
  /// PyTorch counts it), the decoder's causal self-attention and its cross-attention.
  @Test(arguments: ["translate_tiny", "translate_tiny_dynamo"])
  func symbolicLengths(_ name: String) throws {
    let text = try check(name)
    let lines = [
      "inputs:\n  src: $S tokens\n  tgt: $T tokens\nvars:\n  S: 1..64\n  T: 1..64\n",
      "  - EMBED-16 vocab 30 name src_embed\n  - POSEMBED sinusoidal name src_pos\n  - repeat: 2\n    name: encoder\n",
      "  - LN name memory_norm\n  - from: tgt\n  - EMBED-16 vocab 24 name tgt_embed\n  - POSEMBED-64 name tgt_pos\n",
      "            - ATTN-2 causal\n", "            - ATTN-2 cross memory_norm\n", "  - LINEAR-24 name head\n",
    ]
    for line in lines { #expect(text.contains(line), "\(line) in \(text)") }
    if name == "translate_tiny" { assertGolden(text, named: "translate_tiny.spec.yaml") }
  }

  /// The imported translation model's MACs at any (S, T), by hand from its shapes (C = 16,
  /// FFN 32, 2 encoder and 2 decoder layers, a head of 24): an encoder layer is 4C²S of
  /// projections + 2CS² (QKᵀ and attention·V) + 2·C·32·S of FFN = 32S² + 2048S; a decoder
  /// layer is 32T² + 1024T (self-attention), 2C²T + 2C²S + 2CTS (cross) and 1024T (FFN) =
  /// 32T² + 32ST + 2560T + 512S; the head 16·24·T. In all 64S² + 64ST + 64T² + 5120S + 5504T.
  @Test func macsAreTheClosedFormInBothLengths() throws {
    let imported = try ONNXImport.read(Self.folder + "/translate_tiny.onnx")
    let spec = try SpecLoader.parse(SourceFile(path: "t.yaml", text: imported.text))
    for (s, t) in [(7, 5), (3, 11), (64, 1)] {
      let a = try analyze(spec.graph, bindings: ["S": s, "T": t])
      #expect(a.costs.total.macs == 64 * s * s + 64 * s * t + 64 * t * t + 5120 * s + 5504 * t, "S = \(s), T = \(t)")
    }
  }

  /// Exported without dynamic axes: the lengths are the example's, 7 and 5, each pattern
  /// checked at its own tensor's length.
  @Test func fixedLengths() throws {
    let text = try check("translate_tiny_fixed")
    #expect(text.contains("inputs:\n  src: 7 tokens\n  tgt: 5 tokens\nlayers:\n"), "\(text)")
  }

  /// torch.nn's own layers, whose MultiheadAttention the TorchScript exporter writes
  /// time-major (`[T, N, C]`) with one packed in-projection taken apart by Gather and flat
  /// heads `[N*H, T, D]`: nn.Transformer (post-LN, ReLU, the decoder's causal mask from
  /// generate_square_subsequent_mask, its cross-attention's packed k and v, both stacks'
  /// final norms), and a pre-LN GELU nn.TransformerEncoder of one input.
  @Test func torchNNTransformer() throws {
    let text = try check("torch_transformer")
    for line in [
      "inputs:\n  src: 7 tokens\n  tgt: 5 tokens\n", "  - LN name transformer_encoder_norm\n  - from: tgt\n",
      "            - ATTN-4 causal\n", "            - ATTN-4 cross transformer_encoder_norm\n",
      "  - LN name transformer_decoder_norm\n  - LINEAR-24 name head\n",
    ] {
      #expect(text.contains(line), "\(line) in \(text)")
    }
  }

  /// nn.Transformer by the dynamo exporter, both lengths dynamic: the packed weight Split
  /// into the queries' and the keys' and values' for the cross-attention, and the
  /// attention's biases, zeros as PyTorch initializes them, dropped by the exporter and read
  /// back as zeros (so the parameters are PyTorch's count).
  @Test func torchNNTransformerFromTheDynamoExporter() throws {
    let text = try check("torch_transformer_dynamo")
    for line in [
      "inputs:\n  src: $SRC_LEN tokens\n  tgt: $TGT_LEN tokens\n", "- ATTN-4 causal\n", "- ATTN-4 cross transformer_encoder_norm\n",
    ] {
      #expect(text.contains(line), "\(line) in \(text)")
    }
  }

  /// nn.Transformer itself, on sequences of vectors: two float inputs `[1, L, C]` read as
  /// sequences (MatMul and LayerNormalization read them, no conv), written `src: 7x32`.
  @Test func torchNNTransformerOfVectors() throws {
    let text = try check("torch_transformer_vectors")
    for line in ["inputs:\n  src: 7x32\n  tgt: 5x32\nlayers:\n", "- ATTN-4 causal", "- ATTN-4 cross encoder_norm"] {
      #expect(text.contains(line), "\(line) in \(text)")
    }
  }

  @Test func torchNNEncoderPreLN() throws {
    let text = try check("torch_encoder_prenorm")
    let block = "      - residual:\n          body:\n            - LN\n            - ATTN-4\n"
    for line in ["input: 7 tokens\n", block, "            - GELU\n"] { #expect(text.contains(line), "\(line) in \(text)") }
  }

  /// An input nothing reads, and a second input that is not token ids: errors naming it.
  @Test(arguments: [
    ("translate_unused_input", "the graph's input `unused` is read by no layer"),
    ("translate_float_target", "has 2 inputs, among them `tgt`, which is neither token ids nor a sequence [1, L, C]"),
    ("torch_encoder_dynamic", "a length of 7 for a tensor folded at 8 positions: the exporter fixed a length the graph declares symbolic"),
  ])
  func refusedInputs(_ name: String, message: String) throws {
    let error = try #require(throws: DiagnosticError.self) { try ONNXImport.read(Self.folder + "/\(name).onnx") }
    #expect(error.diagnostics.map(\.code) == [.onnxUnsupported])
    #expect(error.diagnostics[0].message.contains(message), "\(error.diagnostics[0].message)")
  }

  /// netc's own export of an encoder-decoder (`inputs:`, `from:`, `cross`) imported back:
  /// the same figures at every length, and on the exported weights the same output.
  @Test func roundTripOfSeveralInputs() throws {
    let text = """
      netspec: 1
      name: translate
      inputs:
        src: $S tokens
        tgt: $T tokens
      vars: {S: 1..64, T: 1..64}
      layers:
        - EMBED-16 vocab 30 name src_embed
        - POSEMBED sinusoidal
        - repeat: 2
          name: encoder
          layers: [residual: {body: [ATTN-2]}, LN, residual: {body: [LINEAR-32, RELU, LINEAR-16]}, LN]
        - LN name memory
        - from: tgt
        - EMBED-16 vocab 24 name tgt_embed
        - POSEMBED-64 name tgt_pos
        - repeat: 2
          name: decoder
          layers:
            - residual: {body: [ATTN-2 causal]}
            - LN
            - residual: {body: [ATTN-2 cross memory]}
            - LN
            - residual: {body: [LINEAR-32, RELU, LINEAR-16]}
            - LN
        - LINEAR-24 name head

      """
    let spec = try SpecLoader.parse(SourceFile(path: "translate.yaml", text: text))
    let bindings = ["S": 7, "T": 5]
    let a = try analyze(spec.graph, bindings: bindings)
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(a.graph, a.shapes, sources: [], seed: 0)
    // The lengths symbolic, as `netc export` writes them (dim_params S and T).
    let symbolic = try analyzeSymbolic(spec.graph, bindings: [:], free: ["S", "T"])
    let bytes = try ONNXExport.bytes(a.graph, a.shapes, parameters: params, symbolic: symbolic)
    let imported = try ONNXImport.read(bytes: bytes, path: "/nonexistent/translate.onnx")
    let back = try SpecLoader.parse(SourceFile(path: "translate.yaml", text: imported.text))
    #expect(imported.text.contains("inputs:\n  src: $S tokens\n  tgt: $T tokens\n"), "\(imported.text)")
    #expect(imported.text.contains("  - from: tgt\n"), "\(imported.text)")
    #expect(imported.text.contains("- ATTN-2 cross memory\n"), "\(imported.text)")
    for (s, t) in [(7, 5), (3, 11)] {
      let x = try analyze(spec.graph, bindings: ["S": s, "T": t])
      let y = try analyze(back.graph, bindings: ["S": s, "T": t])
      #expect(y.costs.total.params == x.costs.total.params, "\(imported.text)")
      #expect(y.costs.total.macs == x.costs.total.macs)
      #expect(y.shapes[back.graph.outputID] == x.shapes[spec.graph.outputID])
    }
    let b = try analyze(back.graph, bindings: bindings)
    let backParams = try ONNXImportTests.parameters(imported, b, seed: 7)
    let src = Tensor<Float>(shape: [7], data: [3, 1, 4, 1, 5, 9, 2])
    let tgt = Tensor<Float>(shape: [5], data: [6, 5, 3, 5, 8])
    let y0 = Interpreter(graph: a.graph, shapes: a.shapes, parameters: params).output(src, others: [a.graph.namedInputs[1].node: tgt])
    let y1 = Interpreter(graph: b.graph, shapes: b.shapes, parameters: backParams).output(
      src, others: [b.graph.namedInputs[1].node: tgt])
    #expect(y0.shape == [5, 24])
    let scale = y0.data.map(abs).max() ?? 1
    let err = zip(y0.data, y1.data).map { abs($0 - $1) }.max() ?? 0
    #expect(err <= 1e-5 * scale, "round trip: \(err) against \(scale)")
  }
}
