import Foundation
import NetcBackends
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcONNX
import NetcPasses
import NetcTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Imports the models of Fixtures/import (written by scripts/onnx/generate_import_fixtures.py
/// with torch.onnx.export and onnx.helper) and checks the spec's figures against PyTorch's
/// and its output on the written weights against ONNX Runtime's, both stored by the script.
@Suite struct ONNXImportTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/import").path

  struct Expected: Decodable {
    var params: Int
    var buffers: Int
    var macs: Int
    var input: [Float]
    var input_shape: [Int]
    var output: [Float]
    var output_shape: [Int]
  }

  static func expected(_ name: String) throws -> Expected {
    let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/expected.json"))
    return try #require(try JSONDecoder().decode([String: Expected].self, from: data)[name])
  }

  /// The parameters of `analysis` from an import's weights, written as `netc import
  /// --weights-out` writes them (.npy files read back by WeightBinding, in a directory
  /// removed after); `seed` fills what the import did not write.
  static func parameters(_ imported: ImportedSpec, _ analysis: Analysis, seed: UInt64 = 0) throws -> [LayerParameters<Float>?] {
    let dir = temporaryDirectory()
    defer { _ = try? FileManager.default.removeItem(atPath: dir) }
    for (n, t) in imported.weights { try FileSystem.write(NpyFile.encode(t), to: "\(dir)/\(n).npy") }
    return try WeightBinding.bind(analysis.graph, analysis.shapes, sources: [.directory(dir)], seed: seed)
  }

  /// A fresh directory under the system's temporary folder.
  static func temporaryDirectory() -> String {
    var template = Array("/tmp/netc-import-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
  }

  /// Imports `name`.onnx, checks analyze's totals and runs it on weights written as
  /// `netc import --weights-out` writes them (.npy files read back by WeightBinding).
  func check(_ name: String, partial: Bool = false) throws -> String {
    let imported = try ONNXImport.read(Self.folder + "/\(name).onnx", partial: partial)
    let want = try Self.expected(name)
    let spec = try SpecLoader.parse(SourceFile(path: "\(name).yaml", text: imported.text))
    let analysis = try analyze(spec.graph)
    #expect(analysis.costs.total.params == want.params, "\(imported.text)")
    #expect(analysis.costs.total.buffers == want.buffers)
    #expect(analysis.costs.total.macs == want.macs)

    let params = try Self.parameters(imported, analysis)
    let interpreter = Interpreter(graph: analysis.graph, shapes: analysis.shapes, parameters: params, threads: 1)
    // ONNX's NCHW input and output in netc's channels-last order.
    let x = Self.channelsLast(want.input, shape: Array(want.input_shape.dropFirst()))
    let y = interpreter.output(x)
    let reference = Self.channelsLast(want.output, shape: Array(want.output_shape.dropFirst()))
    #expect(y.shape == reference.shape)
    let scale = reference.data.map(abs).max() ?? 1
    let err = zip(y.data, reference.data).map { abs($0 - $1) }.max() ?? 0
    #expect(err <= 1e-5 * scale, "\(name): max |netc - ORT| = \(err), scale \(scale)")
    return imported.text
  }

  static func channelsLast(_ v: [Float], shape: [Int]) -> Tensor<Float> {
    guard shape.count > 1 else { return Tensor(shape: shape, data: v) }
    let c = shape[0], n = v.count / c
    var out = [Float](repeating: 0, count: v.count)
    for ch in 0..<c { for i in 0..<n { out[i * c + ch] = v[ch * n + i] } }
    return Tensor(shape: Array(shape.dropFirst()) + [c], data: out)
  }

  func body(_ text: String) -> [String] { text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") } }

  @Test func cnnWithBatchNormKept() throws {
    let text = try check("cnn_bn_kept")
    #expect(
      body(text) == [
        "netspec: 1", "name: cnn_bn_kept", "input: 8x8x3", "defaults:", "  conv: { bias: false }", "layers:", "  - CONV3-4 pad 1",
        "  - BN", "  - RELU name relu", "  - POOL2 name pool", "  - FLATTEN", "  - FC-5 name fc",
      ])
  }

  @Test func cnnWithBatchNormFolded() throws {
    // Folded into the conv: its bias is BN's shift, and the BN is gone.
    let text = try check("cnn_bn_folded")
    #expect(body(text).contains("  - CONV3-4 pad 1"))
    #expect(!text.contains("BN"))
  }

  /// torchvision's VisionTransformer (toy size) by TorchScript: the grid computed from the
  /// image's Shape (Gather, Div, Mul of constants, folded in an image graph too), the
  /// patches as TOKENS, nn.MultiheadAttention's packed projection, the first token to the
  /// head. MACs 414,144 (scripts/onnx/generate_encoder_decoder_fixtures.py counts them by
  /// hooks; by hand: the patch conv 16·32·192, each layer 4·32²·17 + 2·17²·32 + 2·32·64·17,
  /// the head 32·10).
  @Test func torchvisionVisionTransformer() throws {
    let text = try check("torchvision_vit_tiny")
    let conv = 16 * 32 * 192, attention: Int = 4 * 32 * 32 * 17 + 2 * 17 * 17 * 32, mlp = 2 * 32 * 64 * 17
    #expect(conv + 2 * (attention + mlp) + 32 * 10 == 414_144)
    // torchvision's blocks are `encoder_layer_0`, `encoder_layer_1`: indexed, so one repeat.
    let lines = [
      "- CONV8-32 stride 8 name conv_proj\n  - TOKENS\n  - CLSTOKEN\n  - POSEMBED-17 name encoder_pos_embedding\n  - repeat: 2\n",
      "            - ATTN-4\n", "  - LN eps 1e-06 name encoder_ln\n  - TAKE\n  - LINEAR-10 name heads_head\n",
    ]
    for line in lines {
      #expect(text.contains(line), "\(line) in \(text)")
    }
  }

  /// torchvision's ConvNeXt (toy size: stages of 8 and 16 channels, one CNBlock each) by
  /// TorchScript: the feature map made channels last for its LayerNorm and Linears (the
  /// same layer in netc's channels-last order), the layer scale, LayerNorm2d between stages
  /// and in the head. MACs 136,096 (by hand: the stem 64·8·48, block 1 64·8·49 + 2·64·8·32,
  /// the downsample 16·16·32, block 2 16·16·49 + 2·16·16·64, the head 16·10). At opset 13
  /// its LayerNorms are spelled out (ReduceMean, Sub, Pow, ...) on the channels-last view:
  /// the same spec.
  @Test(arguments: ["torchvision_convnext_tiny", "torchvision_convnext_opset13_tiny"])
  func torchvisionConvNeXt(_ name: String) throws {
    let text = try check(name)
    let block1: Int = 64 * 8 * 49 + 2 * 64 * 8 * 32, block2: Int = 16 * 16 * 49 + 2 * 16 * 16 * 64
    #expect(64 * 8 * 48 + block1 + 16 * 16 * 32 + block2 + 16 * 10 == 136_096)
    let block =
      "        - DWCONV7 pad 3 name block_0\n        - LN eps 1e-06 name block_2\n        - LINEAR-32 name block_3\n"
      + "        - GELU name block_4\n        - LINEAR-8 name block_5\n        - LAYERSCALE name layer_scale\n"
    for line in [block, "  - GAP name avgpool\n  - LN eps 1e-06 name classifier_0\n"] { #expect(text.contains(line), "\(line) in \(text)") }
  }

  @Test func residualBlocks() throws {
    let text = try check("residual")
    let lines = body(text)
    #expect(lines.contains("      name: block1"))
    #expect(lines.contains("      shortcut:"))
    #expect(lines.contains("        - CONV1-8 stride 2 name downsample_0"))
    // The functional ReLU after block1's sum: block1's layer, outside its residual.
    #expect(lines.contains("  - RELU name block1_relu"))
    #expect(lines.filter { $0.hasSuffix("- residual:") }.count == 2)
  }

  @Test func identicalBlocksBecomeARepeat() throws {
    // layer1 of three identical blocks, each a residual and the ReLU after its sum.
    let lines = body(try check("repeat"))
    #expect(lines.contains("  - repeat: 3"))
    #expect(lines.contains("    name: layer1"))
    #expect(lines.contains("      - residual:"))
    #expect(lines.filter { $0.hasSuffix("- residual:") }.count == 1)
  }

  @Test func concatBranchesAndSiLU() throws {
    let text = try check("concat")
    let lines = body(text)
    #expect(lines.contains("      merge: concat"))
    #expect(lines.contains("          - AVGPOOL3 stride 1 pad 1 name b3"))
    #expect(lines.contains("  - DWCONV3 pad 1 name dw"))
    #expect(lines.contains("  - SILU"))  // y * sigmoid(y)
  }

  @Test func decoderOps() throws {
    // torch.onnx's ZeroPad2d((1, 2, 0, 1)) pads come as shape arithmetic on constants,
    // folded; nn.GELU() as Div, Erf, Add, Mul, Mul; Upsample as Resize.
    let lines = body(try check("decoder"))
    #expect(
      Array(lines.suffix(6)) == [
        "  - PAD pad 0:1,1:2 name pad", "  - CONV3-4 name conv", "  - GELU name act", "  - UPSAMPLE-2 name up",
        "  - DECONV3-3 stride 2 pad 1 outpad 1 name deconv", "  - UPSAMPLE-2 mode bilinear name smooth",
      ])
  }

  /// AveragePool with dilations (opset 19) as a dilated AVGPOOL, its output ONNX Runtime's
  /// where the last ceil window reaches past the padding.
  @Test func dilatedAveragePool() throws {
    let text = try check("avgpool_dilated")
    #expect(body(text).contains("  - AVGPOOL3 stride 2 pad 1 dilation 2 ceil name pool"), "\(text)")
  }

  @Test func matMulAddWithExternalData() throws {
    let text = try check("mlp_external")
    #expect(body(text).contains("  - FC-4 name dense1"))
  }

  /// Each broken model is an error with its code and words, never a crash.
  @Test(arguments: [
    ("unknown_op", DiagnosticCode.onnxUnsupported, "node `odd` has op type `LRN`, which netc does not import"),
    ("truncated", .onnxModel, "is not a readable ONNX model (truncated)"),
    ("huge_length", .onnxModel, "is not a readable ONNX model"),
    ("deep_nesting", .onnxModel, "nested deeper than 64 messages"),
    ("escaping_data", .onnxModel, "points its external data at `../escaping_data.bin`, which is not a file inside the model's folder"),
    ("absolute_data", .onnxModel, "points its external data at `/etc/passwd`"),
    ("no_such_model", .io, "no such file or directory"),
  ])
  func brokenModels(name: String, code: DiagnosticCode, words: String) throws {
    let error = #expect(throws: DiagnosticError.self) { try ONNXImport.read(Self.folder + "/\(name).onnx") }
    let d = try #require(error?.diagnostics.first)
    #expect(d.code == code)
    #expect(d.message.contains(words), "\(d.message)")
  }

  /// Fuzz findings from the transformer seeds, each refused whole and importing under
  /// `--partial` (which reads on past the refused nodes) into a spec that analyzes:
  /// - `fuzz_heads_overflow` (the tiny Llama mutated): a Reshape into heads whose heads x
  ///   dim overflowed Int trapped;
  /// - `fuzz_fold_huge_float` (the tiny GPT-2 mutated): folding the mask's Where turned a
  ///   float beyond Int's range into an integer, which traps;
  /// - `fuzz_rotary_one_input` (the tiny Llama mutated): an Add of one input read its
  ///   second as a rotary step;
  /// - `fuzz_partial_made_layers` (the tiny GPT-2 mutated): under `--partial` a node that
  ///   failed after reading a pending projection (which made it a layer) had its layers
  ///   taken away while `built` still named them, and a later read indexed past the end;
  /// - `fuzz_mul_one_input` (the tiny Llama mutated): an RMSNorm's Mul of one input read a
  ///   second as its γ;
  /// - `fuzz_ln_zero_eps` (the tiny GPT-2 mutated): a LayerNormalization of epsilon 0 was
  ///   written as `LN eps 0.0`, which netc's own spec check refuses.
  @Test(arguments: [
    "fuzz_heads_overflow", "fuzz_fold_huge_float", "fuzz_rotary_one_input", "fuzz_partial_made_layers", "fuzz_mul_one_input",
    "fuzz_ln_zero_eps",
  ])
  func fuzzFindingsAreErrors(_ name: String) throws {
    let path = Self.folder + "/\(name).onnx"
    let error = #expect(throws: DiagnosticError.self) { try ONNXImport.read(path) }
    #expect(error?.diagnostics.first?.code == .onnxUnsupported)
    let imported = try ONNXImport.read(path, partial: true)
    _ = try analyze(try SpecLoader.parse(SourceFile(path: "partial.yaml", text: imported.text)).graph)
  }

  /// `fuzz_gather_one_input` (the tiny Llama mutated): the embedding's Gather lost its
  /// table, and folding it read an input it did not have; now an error naming the node,
  /// whole and under `--partial` (nothing after the embedding imports).
  @Test func fuzzFindingRefusedWholeAndPartially() throws {
    let path = Self.folder + "/fuzz_gather_one_input.onnx"
    for partial in [false, true] {
      let error = #expect(throws: DiagnosticError.self) { try ONNXImport.read(path, partial: partial) }
      #expect(error?.diagnostics.first?.code == .onnxUnsupported)
    }
    let whole = #expect(throws: DiagnosticError.self) { try ONNXImport.read(path) }
    #expect(whole?.diagnostics.first?.message.contains("(Gather) has 1 of its 2 inputs") == true)
  }

  @Test func unknownOpNamesWhatNetcImports() throws {
    let error = #expect(throws: DiagnosticError.self) { try ONNXImport.read(Self.folder + "/unknown_op.onnx") }
    let note = try #require(error?.diagnostics.first?.notes.first?.message)
    #expect(note.hasPrefix("netc imports Add, AveragePool, BatchNormalization"))
  }

  /// A symlink inside the model's folder that leads out of it is refused too.
  @Test func symlinkedExternalDataOutsideTheFolder() throws {
    let dir = Self.temporaryDirectory()
    defer { _ = try? FileManager.default.removeItem(atPath: dir) }
    try FileManager.default.copyItem(atPath: Self.folder + "/mlp_external.onnx", toPath: dir + "/m.onnx")
    let outside = Self.temporaryDirectory()
    defer { _ = try? FileManager.default.removeItem(atPath: outside) }
    try FileManager.default.copyItem(atPath: Self.folder + "/mlp_external.onnx.data", toPath: outside + "/real.data")
    try FileManager.default.createSymbolicLink(atPath: dir + "/mlp_external.onnx.data", withDestinationPath: outside + "/real.data")
    let error = #expect(throws: DiagnosticError.self) { try ONNXImport.read(dir + "/m.onnx") }
    #expect(error?.diagnostics.first?.message.contains("leads outside the model's folder") == true)
  }
}
