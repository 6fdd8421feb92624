import Foundation
import NetcBackends
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import SwiftProtobuf
import Testing

@testable import NetcONNX

/// A mixture of experts exported by `netc export --to onnx` and imported again: the
/// routing subgraph (TopK, Softmax, ScatterElements into zeros, a Slice and Mul per
/// expert, Sum) becomes `moe:` with stacked expert tensors. Figures and outputs must
/// survive the round trip through two independent paths of netc (the exporter's per-expert
/// copies and the importer's stacking); ONNX Runtime's output on the same models is
/// checked by scripts/onnx/verify_import.py. A routing that differs from netc's in
/// anything that changes the result is an error naming its node.
@Suite struct ONNXMixtureImportTests {
  /// Vectors only (the importer reads `[N, F]` and images; sequences are another
  /// change): two mixtures, one of three experts with a residual inside each, top 2, and
  /// one of a single expert, top 1 (its routing ends in Identity, its tensors unstacked).
  static var vectorMixtures: String {
    get throws { try String(contentsOfFile: repositoryPath("scripts/onnx/specs/vector_moe.yaml"), encoding: .utf8) }
  }

  func exported(_ text: String) throws -> (Analysis, [LayerParameters<Float>?], Onnx_ModelProto) {
    let spec = try parseSpec(text)
    let a = try analyze(spec.graph)
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(a.graph, a.shapes, sources: [], seed: 0)
    let model = try Onnx_ModelProto(serializedBytes: Data(try ONNXExport.bytes(a.graph, a.shapes, parameters: params)))
    return (a, params, model)
  }

  func imported(_ model: Onnx_ModelProto) throws -> ImportedSpec {
    try ONNXImport.read(bytes: Array(try model.serializedData()), path: "/nonexistent/moe.onnx")
  }

  @Test func aVectorMixtureKeepsFiguresAndOutputs() throws {
    let (a, params, model) = try exported(try Self.vectorMixtures)
    let imported = try imported(model)
    // netc's own names come back (the exporter's `inner.add` names the residual `inner`).
    let mix =
      "  - moe:\n      name: mix\n      experts: 3\n      top: 2\n      layers:\n        - FC-12 name up\n        - RELU\n        - residual:\n            name: inner\n"
    #expect(imported.text.contains(mix), "\(imported.text)")
    #expect(
      imported.text.contains("  - moe:\n      name: one\n      experts: 1\n      top: 1\n      layers:\n        - FC-8 name proj\n"),
      "\(imported.text)")
    let back = try SpecLoader.parse(SourceFile(path: "moe.yaml", text: imported.text))
    let b = try analyze(back.graph)
    #expect(b.costs.total.params == a.costs.total.params)
    #expect(b.costs.total.macs == a.costs.total.macs)
    #expect(b.shapes[back.graph.outputID] == a.shapes[a.graph.outputID])
    // Expert tensors stacked over the 3 experts, `[E][out][in]`; the single expert's not.
    let shapes = Dictionary(uniqueKeysWithValues: imported.weights.map { ($0.name, $0.tensor.shape) })
    #expect(shapes["mix.router.weight"] == [3, 8])
    #expect(shapes["mix.expert.up.weight"] == [3, 12, 8])
    #expect(shapes["mix.expert.inner.body.deep.bias"] == [3, 12])
    #expect(shapes["mix.expert.down.weight"] == [3, 8, 12])
    #expect(shapes["one.expert.proj.weight"] == [8, 8])

    let dir = NSTemporaryDirectory() + "netc-moe-import-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for (n, t) in imported.weights { try FileSystem.write(NpyFile.encode(t), to: "\(dir)/\(n).npy") }
    // Another seed: a tensor the import did not write would change the output.
    let backParams: [LayerParameters<Float>?] = try WeightBinding.bind(back.graph, b.shapes, sources: [.directory(dir)], seed: 7)
    for k in 0..<4 {
      let x = Tensor<Float>(shape: [6], data: (0..<6).map { Float(sin(Double($0 + 6 * k) * 0.37)) })
      let y0 = Interpreter(graph: a.graph, shapes: a.shapes, parameters: params).output(x)
      let y1 = Interpreter(graph: back.graph, shapes: b.shapes, parameters: backParams).output(x)
      let scale = y0.data.map(abs).max() ?? 1
      let err = zip(y0.data, y1.data).map { abs($0 - $1) }.max() ?? 1
      #expect(err <= 1e-5 * scale, "input \(k): \(err) against \(scale)")
    }
  }

  /// A mixture over a sequence (Mixtral's sparse MoE: a bias-free LINEAR router of each
  /// position, TopK over `[N, T, E]`, SwiGLU experts) exported with T symbolic and imported
  /// again: the same params, active params, MACs and active MACs, and on the exported
  /// weights the same output.
  @Test func aSequenceMixtureKeepsFiguresAndOutputs() throws {
    let path = repositoryPath("scripts/pytorch/specs/mixtral_tiny.yaml")
    let spec = try SpecLoader.parse(SpecFileLoader.load(path: path))
    let a = try analyze(spec.graph, bindings: ["T": 8])
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(a.graph, a.shapes, sources: [], seed: 0)
    let symbolic = try analyzeSymbolic(spec.graph, bindings: [:], free: ["T"])
    let bytes = try ONNXExport.bytes(a.graph, a.shapes, parameters: params, symbolic: symbolic)
    let imported = try ONNXImport.read(bytes: bytes, path: "/nonexistent/mixtral.onnx")
    #expect(imported.text.contains("            - moe:\n                experts: 4\n                top: 2\n"), "\(imported.text)")
    let back = try SpecLoader.parse(SourceFile(path: "mixtral.yaml", text: imported.text))
    let b = try analyze(back.graph, bindings: ["T": 8])
    #expect(b.costs.total.params == a.costs.total.params)
    #expect(b.costs.total.activeParams == a.costs.total.activeParams)
    #expect(b.costs.total.macs == a.costs.total.macs)
    #expect(b.costs.total.activeMacs == a.costs.total.activeMacs)
    let backParams = try ONNXImportTests.parameters(imported, b, seed: 7)
    let x = Tensor<Float>(shape: [8], data: [3, 1, 4, 1, 5, 9, 2, 6])
    let y0 = Interpreter(graph: a.graph, shapes: a.shapes, parameters: params).output(x)
    let y1 = Interpreter(graph: back.graph, shapes: b.shapes, parameters: backParams).output(x)
    let scale = y0.data.map(abs).max() ?? 1
    let err = zip(y0.data, y1.data).map { abs($0 - $1) }.max() ?? 1
    #expect(y0.shape == y1.shape)
    #expect(err <= 1e-5 * scale, "\(err) against \(scale)")
  }

  /// The first node named `name` and one of its attributes set to `value`.
  func changed(_ model: Onnx_ModelProto, node name: String, _ attribute: String, int value: Int) -> Onnx_ModelProto {
    var m = model
    let k = m.graph.node.firstIndex { $0.name == name }!
    var a = Onnx_AttributeProto()
    a.name = attribute
    a.type = .int
    a.i = Int64(value)
    m.graph.node[k].attribute.removeAll { $0.name == attribute }
    m.graph.node[k].attribute.append(a)
    return m
  }

  func error(_ model: Onnx_ModelProto) -> String {
    guard let bytes = try? model.serializedData() else { return "unserializable" }
    do throws(DiagnosticError) {
      _ = try ONNXImport.read(bytes: Array(bytes), path: "/nonexistent/moe.onnx")
      return "imported"
    } catch {
      return error.diagnostics.map(\.message).joined(separator: "\n")
    }
  }

  @Test func aRoutingUnlikeNetcsIsRefusedAtItsNode() throws {
    let (_, _, model) = try exported(try Self.vectorMixtures)
    // Smallest first picks other experts.
    #expect(
      error(changed(model, node: "mix.moe/top_logits", "largest", int: 0)).contains(
        "node `mix.moe/top_logits` (TopK) in a mixture's routing picks the smallest logits"))
    // Along the batch instead of the experts.
    #expect(
      error(changed(model, node: "mix.moe/top_logits", "axis", int: 0)).contains(
        "node `mix.moe/top_logits` (TopK) in a mixture's routing is over axis 0"))
    #expect(
      error(changed(model, node: "mix.moe/top_weights", "axis", int: 0)).contains(
        "node `mix.moe/top_weights` (Softmax) in a mixture's routing is over axis 0"))
    #expect(
      error(changed(model, node: "mix.moe/weights", "axis", int: 0)).contains(
        "node `mix.moe/weights` (ScatterElements) in a mixture's routing is along axis 0"))
    // `sorted` orders the picks only: the softmax and the scatter by index ignore it.
    #expect(error(changed(model, node: "mix.moe/top_logits", "sorted", int: 0)) == "imported")

    // A scatter that adds, a k of 3 where the top is 2 (the spec still says 2: the k is
    // read from the graph, so it imports as top 3), and an expert left out of the sum.
    var reduction = model
    let s = reduction.graph.node.firstIndex { $0.name == "mix.moe/weights" }!
    var add = Onnx_AttributeProto()
    add.name = "reduction"
    add.type = .string
    add.s = Data("add".utf8)
    reduction.graph.node[s].attribute.append(add)
    #expect(error(reduction).contains("(ScatterElements) in a mixture's routing has reduction `add`"))

    var k3 = model
    let kIndex = k3.graph.initializer.firstIndex { $0.name == "mix.moe.top" }!
    k3.graph.initializer[kIndex].rawData = Data([3, 0, 0, 0, 0, 0, 0, 0])
    #expect((try? imported(k3))?.text.contains("experts: 3\n      top: 3\n") == true)
    k3.graph.initializer[kIndex].rawData = Data([4, 0, 0, 0, 0, 0, 0, 0])
    #expect(error(k3).contains("(TopK) in a mixture's routing has no constant k from 1 to the 3 experts"))

    var missing = model
    let sum = missing.graph.node.firstIndex { $0.name == "mix.moe" }!
    missing.graph.node[sum].input.removeLast()
    #expect(error(missing).contains("node `mix.moe` (Sum) in a mixture's routing sums experts [0, 1] of a mixture of 3"))
  }

  @Test func expertsThatDifferAreRefused() throws {
    // Expert 1's hidden activation swapped for another: netc's experts share one body.
    let (_, _, model) = try exported(try Self.vectorMixtures)
    var m = model
    let k = m.graph.node.firstIndex { $0.name == "mix.expert.1.relu1" }!
    m.graph.node[k].opType = "Sigmoid"
    #expect(error(m).contains("sums expert 1 (`mix.expert.1.down`), whose layers differ from expert 0's"), "\(error(m))")
  }
}

/// Found by the ONNX fuzz target: a model whose output is its input (its one node left out
/// by `--partial`) gave a spec of no layers, which netc rejects; the input is in
/// Fuzz/corpus/onnx/output_is_input.onnx.
@Suite struct ONNXOutputIsInputTests {
  @Test(arguments: [false, true])
  func aGraphWhoseOutputIsItsInputIsAnError(_ partial: Bool) throws {
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: repositoryPath("Fuzz/corpus/onnx/output_is_input.onnx"))))
    let error = #expect(throws: DiagnosticError.self) {
      try ONNXImport.read(bytes: bytes, path: "/nonexistent/m.onnx", partial: partial)
    }
    let message = error?.diagnostics.map(\.message).joined(separator: "\n") ?? ""
    #expect(
      message.contains(partial ? "the graph's output `x` is its input; netc imports networks of at least one layer" : "(AveragePool)"),
      "\(message)")
  }
}
