import Foundation
import NetcBackends
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcONNX
import NetcPasses
import NetcTestSupport
import Testing

/// Imports the transformers of Fixtures/import (written by
/// scripts/onnx/generate_transformer_import_fixtures.py from Hugging Face `transformers`
/// configs with random weights): analyze's parameters against PyTorch's count and `run` on
/// the written weights against ONNX Runtime's output, both stored by the script.
@Suite struct ONNXTransformerImportTests {
  static let folder = ONNXImportTests.folder

  struct Expected: Decodable {
    var params: Int
    var input_shape: [Int]
    var output_shape: [Int]
  }

  static func expected(_ name: String) throws -> Expected {
    let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/transformers.json"))
    return try #require(try JSONDecoder().decode([String: Expected].self, from: data)[name])
  }

  /// Imports `name`.onnx and checks its figures and its output; returns the spec's text.
  @discardableResult
  func check(_ name: String) throws -> String {
    let imported = try ONNXImport.read(Self.folder + "/\(name).onnx")
    let want = try Self.expected(name)
    let spec = try SpecLoader.parse(SourceFile(path: "\(name).yaml", text: imported.text))
    // A symbolic length written back as the spec's var is bound to the fixture's.
    let bindings = spec.graph.vars.first.map { [$0.name: want.input_shape[0]] } ?? [:]
    let analysis = try analyze(spec.graph, bindings: bindings)
    #expect(analysis.costs.total.params == want.params, "\(imported.text)")

    let params = try ONNXImportTests.parameters(imported, analysis)
    let interpreter = Interpreter(graph: analysis.graph, shapes: analysis.shapes, parameters: params, threads: 1)
    let values = try JSONDecoder().decode([Float].self, from: Data(contentsOf: URL(fileURLWithPath: Self.folder + "/\(name).input.json")))
    // Token ids `[T]`, or an image `[C, H, W]` in netc's channels-last order (the batch of 1 left out).
    let shape = want.input_shape
    let x = shape.count == 1 ? Tensor(shape: shape, data: values) : ONNXImportTests.channelsLast(values, shape: shape)
    try Self.expectReference(interpreter.output(x), name, shape: want.output_shape)
    return imported.text
  }

  /// `y` against ONNX Runtime's output stored as `name`.output.npy: the shape, and within
  /// 1e-5 of its largest magnitude.
  static func expectReference(_ y: Tensor<Float>, _ name: String, shape: [Int]) throws {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/\(name).output.npy")))
    let reference: Tensor<Float> = try NpyFile.decode(bytes, path: "\(name).output.npy")
    #expect(y.shape == shape)
    #expect(reference.shape == shape)
    let scale = reference.data.map(abs).max() ?? 1
    let err = zip(y.data, reference.data).map { abs($0 - $1) }.max() ?? 0
    #expect(err <= 1e-5 * scale, "\(name): max |netc - ORT| = \(err), scale \(scale)")
  }

  /// GPT-2 as transformers writes it (Conv1D's Gemm, the fused c_attn split in three, the
  /// causal mask folded from its Where/Expand arithmetic, the LM head tied to wte).
  @Test func gpt2FromTransformers() throws {
    let text = try check("gpt2_tiny")
    assertGolden(text, named: "gpt2_tiny.spec.yaml")
  }

  /// GPT-2 with transformers' default SDPA attention: Q and K each scaled by D^(-1/4), the
  /// causal mask built from Shape, Expand, Trilu and Where; the same spec as eager's.
  @Test func gpt2WithScaledDotProductAttention() throws {
    let text = try check("gpt2_tiny_sdpa")
    #expect(text.contains("- ATTN-4 causal\n"), "\(text)")
  }

  /// GPT-2 exported at opset 16, where LayerNorm is spelled out (ReduceMean, Sub, Pow,
  /// ReduceMean, Add, Sqrt, Div, Mul, Add): the same LNs.
  @Test func gpt2WithDecomposedLayerNorm() throws {
    let text = try check("gpt2_tiny_opset16")
    #expect(text.contains("  - LN name ln_f\n"), "\(text)")
  }

  /// GPT-2 by the dynamo exporter (opset 18, T symbolic so that wpe stays a table): no
  /// shape arithmetic left but the positions' Range and the mask's comparison; `$T` written back.
  @Test func gpt2FromTheDynamoExporter() throws {
    let text = try check("gpt2_tiny_dynamo")
    #expect(text.contains("input: $T tokens\nvars:\n  T: 1..32\n"), "\(text)")
    #expect(text.contains("- ATTN-4 causal\n"), "\(text)")
  }

  /// GPT-2 with its default SDPA attention by torch's default (dynamo) exporter: the
  /// decomposition transposes the keys in 3-D (`[1, H, T, D]` to `[H, T, D]`, Transpose,
  /// back) and zeroes NaNs after the softmax; the same spec as the eager export's.
  @Test func gpt2WithScaledDotProductAttentionFromTheDynamoExporter() throws {
    let text = try check("gpt2_tiny_sdpa_dynamo")
    #expect(text.contains("input: $T tokens\nvars:\n  T: 1..32\n"), "\(text)")
    #expect(text.contains("- ATTN-4 causal\n"), "\(text)")
  }

  /// BERT with SDPA by the dynamo exporter (its exact GELU as (1 + erf(x / sqrt 2)) / 2,
  /// then times x; the mask's comparisons as GreaterOrEqual) and ViT with SDPA by
  /// TorchScript: the same layers as their eager exports.
  @Test(arguments: ["bert_tiny_sdpa_dynamo", "vit_tiny_sdpa"])
  func encodersWithScaledDotProductAttention(_ name: String) throws {
    let text = try check(name)
    for line in ["- ATTN-4\n", "- GELU\n", "- TAKE name pooler", "- TANH"] { #expect(text.contains(line), "\(line) in \(text)") }
  }

  /// BERT: word, token-type (every token type 0, folded to row 0) and position
  /// embeddings, post-LN encoder layers with bidirectional attention and erf GELU, the pooler
  /// (the first token, dense, tanh).
  @Test func bertFromTransformers() throws {
    let text = try check("bert_tiny")
    // The embeddings' LN stays before the repeat: each copy is one encoder layer.
    let layer = "  - LN eps 1e-12 name LayerNorm\n  - repeat: 2\n    name: encoder_layer\n    layers:\n      - residual:\n"
    for line in ["- TYPEEMBED-2 name token_type_embeddings", layer, "- ATTN-4\n", "- GELU\n", "- TAKE name pooler", "- TANH"] {
      #expect(text.contains(line), "\(line) in \(text)")
    }
  }

  /// BERT exported with the three inputs transformers gives it: `attention_mask` read as
  /// all ones and `token_type_ids` as zeros (each said in the header and `assumed`), so that
  /// the mask arithmetic folds to zeros and the type embedding to row 0: the spec of
  /// `bert_tiny`, which takes the token ids only; ORT's output is the one at those defaults.
  @Test func bertWithItsOptionalInputs() throws {
    let text = try check("bert_tiny_inputs")
    let imported = try ONNXImport.read(Self.folder + "/bert_tiny_inputs.onnx")
    #expect(imported.assumed.count == 2)
    #expect(imported.assumed.first?.hasPrefix("`attention_mask` read as all ones") == true, "\(imported.assumed)")
    for line in [
      "# Inputs read as constants (the spec takes the token ids only):\n#   `attention_mask` read as all ones",
      "#   `token_type_ids` read as all zeros", "input: $T tokens\n", "- TYPEEMBED-2 name token_type_embeddings", "- ATTN-4\n",
    ] {
      #expect(text.contains(line), "\(line) in \(text)")
    }
  }

  /// GPT-2 with its attention_mask by TorchScript with the length dynamic: the shape
  /// arithmetic stays in the graph and reads the extents of attention's steps (the fused
  /// projection's key slice, the context transposed and merged), which netc knows; the
  /// mask all ones folds into the causal one.
  @Test func gpt2WithItsMaskAndADynamicLength() throws {
    let text = try check("gpt2_tiny_inputs")
    for line in ["#   `attention_mask` read as all ones", "input: $T tokens\n", "- ATTN-4 causal\n", "tie wte name lm_head"] {
      #expect(text.contains(line), "\(line) in \(text)")
    }
  }

  /// ViT: the patches by a strided conv, the grid's Reshape and Transpose as TOKENS, the
  /// class token's Concat, the learned positions added, pre-LN blocks, the pooler.
  @Test func vitFromTransformers() throws {
    let text = try check("vit_tiny")
    for line in ["- CONV8-32 stride 8", "- TOKENS", "- CLSTOKEN", "- POSEMBED-17", "- ATTN-4\n", "- TAKE name pooler"] {
      #expect(text.contains(line), "\(line) in \(text)")
    }
  }

  /// Llama as transformers writes it: RMSNorm as x * rsqrt(mean(x^2) + eps) between Casts
  /// (Sqrt, then Div of 1), rotary applied to transposed heads from folded cos/sin tables,
  /// grouped-query attention by repeat_kv (Unsqueeze, Expand, Reshape of K and V), the
  /// residual added first (`x + attn(...)`), SwiGLU as a `mul` parallel, an untied head;
  /// and multi-query attention (one key/value head: its projection is reshaped into one
  /// head of all its units, not kept whole).
  @Test(arguments: [("llama_tiny_hf", 2), ("llama_tiny_hf_dynamo", 2), ("llama_tiny_hf_mqa", 1), ("llama_tiny_hf_dynamic", 2)])
  func llamaFromTransformers(_ name: String, kv: Int) throws {
    let text = try check(name)
    let layer = "      - residual:\n          body:\n            - RMSNORM eps 1e-06\n            - ATTN-4 kv \(kv) nobias causal rope\n"
    for line in [
      "- EMBED-32 vocab 100 name embed_tokens", "  - repeat: 2\n", layer, "merge: mul", "- SILU", "- LINEAR-100 nobias name lm_head",
    ] {
      #expect(text.contains(line), "\(line) in \(text)")
    }
  }

  /// Each refused model is an error naming the node and what netc takes instead.
  @Test(arguments: [
    (
      "gpt2_odd_mask",
      "node `/model/transformer/h.0/attn/Add` (Add) adds a mask to attention's scores that is neither causal nor zero"
    ),
    ("gpt2_unknown_op", "node `/model/transformer/h.0/mlp/act/Tanh` has op type `Softsign`, which netc does not import"),
  ])
  func refusedPatterns(name: String, words: String) throws {
    let error = #expect(throws: DiagnosticError.self) { try ONNXImport.read(Self.folder + "/\(name).onnx") }
    let d = try #require(error?.diagnostics.first)
    #expect(d.code == .onnxUnsupported)
    #expect(d.message.contains(words), "\(d.message)")
  }

  /// netc's own export of a token spec (T left symbolic, as `netc export` writes it)
  /// imports back to the same figures at T = 8 and, on the exported weights, the same output.
  @Test(arguments: ["gpt2_tiny", "llama_tiny"])
  func netcExportsRoundTrip(_ name: String) throws {
    let spec = try SpecLoader.parse(SpecFileLoader.load(path: repositoryPath("scripts/onnx/specs/\(name).yaml")))
    let a = try analyze(spec.graph, bindings: ["T": 8])
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(a.graph, a.shapes, sources: [], seed: 0)
    let symbolic = try analyzeSymbolic(spec.graph, bindings: [:], free: ["T"])
    let bytes = try ONNXExport.bytes(a.graph, a.shapes, parameters: params, symbolic: symbolic)
    let imported = try ONNXImport.read(bytes: bytes, path: "/nonexistent/\(name).onnx")
    let back = try SpecLoader.parse(SourceFile(path: "\(name).yaml", text: imported.text))
    let b = try analyze(back.graph, bindings: ["T": 8])
    #expect(b.costs.total.params == a.costs.total.params, "\(imported.text)")
    #expect(b.costs.total.macs == a.costs.total.macs)
    #expect(b.shapes[back.graph.outputID] == a.shapes[a.graph.outputID])
    let dir = ONNXImportTests.temporaryDirectory()
    defer { _ = try? FileManager.default.removeItem(atPath: dir) }
    for (n, t) in imported.weights { try FileSystem.write(NpyFile.encode(t), to: "\(dir)/\(n).npy") }
    let backParams: [LayerParameters<Float>?] = try WeightBinding.bind(back.graph, b.shapes, sources: [.directory(dir)], seed: 7)
    let ids = Tensor<Float>(shape: [8], data: [3, 1, 4, 1, 5, 9, 2, 6])
    let y0 = Interpreter(graph: a.graph, shapes: a.shapes, parameters: params).output(ids)
    let y1 = Interpreter(graph: back.graph, shapes: b.shapes, parameters: backParams).output(ids)
    let scale = y0.data.map(abs).max() ?? 1
    let err = zip(y0.data, y1.data).map { abs($0 - $1) }.max() ?? 0
    #expect(y0.shape == y1.shape)
    #expect(err <= 1e-5 * scale, "\(name): \(err) against \(scale)")
  }
}
