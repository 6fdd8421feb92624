import Foundation
import NetcBackends
import NetcDiagnostics
import NetcDriver
import NetcFrontend
import NetcIR
import NetcONNX
import NetcPasses
import NetcTestSupport
import SwiftProtobuf
import Testing

/// A mixture of experts as an ONNX subgraph, decoded from the exported bytes. The
/// expectations are the ONNX operator spec's (TopK's outputs and tie rule, ScatterElements'
/// axis) and the stacked layout of netc's expert tensors (`[E][out][in]`); ONNX Runtime's
/// numbers are checked by scripts/onnx/verify_export.py on scripts/pytorch/specs/mixtral_tiny
/// and moe_ops.
@Suite struct ONNXMixtureExportTests {
  func export(_ text: String) throws -> (model: Onnx_ModelProto, parameters: [String: Tensor<Float>]) {
    let spec = try parseSpec(text)
    let analysis = try analyze(spec.graph)
    let sources: [WeightSource] = spec.weights.map { [.mapping($0, file: "test.yaml")] } ?? []
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(analysis.graph, analysis.shapes, sources: sources, seed: 0)
    let m = try Onnx_ModelProto(serializedBytes: Data(try ONNXExport.bytes(analysis.graph, analysis.shapes, parameters: params)))
    var bound: [String: Tensor<Float>] = [:]
    for node in analysis.graph.layers {
      for kind in ParameterKind.allCases { if let t = params[node.id]?[kind] { bound["\(node.name).\(kind.rawValue)"] = t } }
    }
    return (m, bound)
  }

  static let mixture = specText(
    input: "4x8",
    layers: ["moe:\n      name: m\n      experts: 3\n      top: 2\n      layers: [LINEAR-6 name up, SILU, LINEAR-8 name down]"])

  @Test func everyExpertIsItsSliceOfTheStackedWeights() throws {
    let (m, bound) = try export(Self.mixture)
    // netc stacks the 3 experts' `up` weights as [3][6][8]; expert k's copy is slice k,
    // stored [in][out] = [8][6] for MatMul: element (i, o) of the copy is w[k][o][i].
    let stacked = try #require(bound["m.expert.up.weight"])
    #expect(stacked.shape == [3, 6, 8])
    for k in 0..<3 {
      let copy = try #require(initializer(m, "m.expert.\(k).up.weight"))
      #expect(copy.dims == [8, 6])
      let got = floats(copy)
      let want = (0..<8).flatMap { i in (0..<6).map { o in stacked.data[k * 48 + o * 8 + i] } }
      #expect(got == want)
      #expect(initializer(m, "m.expert.\(k).up.bias")?.dims == [6])
      #expect(node(m, "m.expert.\(k).down")?.opType == "Add")
    }
    // The stacked tensors themselves are not initializers: each expert reads its own.
    #expect(initializer(m, "m.expert.up.weight") == nil)
    // The router is a bias-free LINEAR of 8 -> 3 experts.
    #expect(initializer(m, "m.router.weight")?.dims == [8, 3])
    #expect(node(m, "m.router")?.opType == "MatMul")
    // Every expert's values are typed: [N, 4, 6] after `up`, [N, 4, 8] after `down`.
    let info = Dictionary(uniqueKeysWithValues: m.graph.valueInfo.map { ($0.name, dims($0)) })
    #expect(info["m.expert.2.up"] == ["N", "4", "6"])
    #expect(info["m.expert.0.down"] == ["N", "4", "8"])
    #expect(info["m.expert.up"] == nil)
    #expect(dims(m.graph.output[0]) == ["N", "4", "8"])
  }

  @Test func routingIsTopKSoftmaxAndAWeightedSum() throws {
    let (m, _) = try export(Self.mixture)
    // TopK of k = 2 over the experts' axis, largest first, sorted: its two outputs are the
    // picked logits and their experts (ties to the lower index, ONNX's rule and netc's).
    let top = try #require(node(m, "m.moe/top_logits"))
    #expect(top.opType == "TopK" && top.input == ["m.router", "m.moe.top"] && top.output == ["m.moe/top_logits", "m.moe/picked"])
    #expect(initializer(m, "m.moe.top")?.int64Data == [2])
    #expect(ints(top, "axis") == [-1] && ints(top, "largest") == [1] && ints(top, "sorted") == [1])
    #expect(node(m, "m.moe/top_weights")?.opType == "Softmax" && ints(node(m, "m.moe/top_weights"), "axis") == [-1])
    // The picked weights scattered into zeros of the logits' shape: [N, 4, 3].
    let scatter = try #require(node(m, "m.moe/weights"))
    #expect(scatter.opType == "ScatterElements" && scatter.input == ["m.moe/zeros", "m.moe/picked", "m.moe/top_weights"])
    #expect(ints(scatter, "axis") == [-1])
    #expect(node(m, "m.moe/zeros")?.opType == "ConstantOfShape")
    // Expert k's weight, [N, 4, 1], times its output, summed over the 3 experts.
    #expect(node(m, "m.moe/weight.1")?.input == ["m.moe/weights", "m.moe.expert.1", "m.moe.expert.2", "m.moe.expert_axis"])
    #expect(initializer(m, "m.moe.expert_axis")?.int64Data == [-1])
    #expect(node(m, "m.moe/weighted.2")?.input == ["m.moe/weight.2", "m.expert.2.down"])
    let sum = try #require(node(m, "m.moe"))
    #expect(sum.opType == "Sum" && sum.input == ["m.moe/weighted.0", "m.moe/weighted.1", "m.moe/weighted.2"])
    #expect(sum.output == [m.graph.output[0].name])
  }

  /// The nodes of a small mixture on an image, one per line: `op name: inputs -> output`.
  /// Pins how the subgraph reads (the router and the weights channels last, each conv
  /// expert channels first and transposed once), not its numbers.
  @Test func imageMixtureGraphGolden() throws {
    let (m, _) = try export(
      specText(
        input: "4x4x2", layers: ["moe:\n      name: m\n      experts: 2\n      top: 1\n      layers: [CONV3-2 pad 1 name conv, RELU]"]))
    let lines = m.graph.node.map { n in "\(n.opType) \(n.name): \(n.input.joined(separator: ", ")) -> \(n.output.joined(separator: ", "))" }
    assertGolden(lines.joined(separator: "\n") + "\n", named: "image-mixture.nodes.txt")
    #expect(dims(m.graph.output[0]) == ["N", "4", "4", "2"])
    #expect(m.metadataProps.contains { $0.key == "netc.layout.output" && $0.value == "channels last" })
  }

  @Test func oneExpertAndExpertsWithoutLayers() throws {
    // One expert: its layers are written as they are, its weight 1 (the softmax of one logit).
    let one = try export(specText(input: "3x4", layers: ["moe:\n      name: m\n      experts: 1\n      layers: [LINEAR-4 name w]"])).model
    #expect(initializer(one, "m.expert.w.weight")?.dims == [4, 4])
    #expect(node(one, "m.moe")?.opType == "Identity" && node(one, "m.moe")?.input == ["m.moe/weighted.0"])
  }

  @Test func anExpertLayerTheExportCannotWriteIsNamed() throws {
    // A LINEAR over an image's channels is a 1x1 Conv, which cannot read a tied weight.
    let text = specText(
      input: "4x4x3",
      layers: ["moe:\n      name: m\n      experts: 2\n      layers: [CONV1-3 name conv, LINEAR-3 name a, LINEAR-3 tie a name tied]"])
    let spec = try parseSpec(text)
    let analysis = try analyze(spec.graph)
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(analysis.graph, analysis.shapes, sources: [], seed: 0)
    let error = #expect(throws: DiagnosticError.self) { try ONNXExport.bytes(analysis.graph, analysis.shapes, parameters: params) }
    let d = try #require(error?.diagnostics.first)
    #expect(d.message.contains("`m.expert.tied` (expert 0)"), "\(d.message)")
    #expect(d.range?.start.line == 7)
  }

  /// Two layers of one expert may share a weight: each expert's copy reads its own copy of it.
  @Test func aTieInsideAnExpertReadsItsExpertsCopy() throws {
    let (m, _) = try export(
      specText(input: "3x4", layers: ["moe:\n      name: m\n      experts: 2\n      layers: [LINEAR-4 name a, LINEAR-4 tie a name tied]"]))
    #expect(node(m, "m.expert.1.tied/matmul")?.input == ["m.expert.1.a", "m.expert.1.a.weight"])
    #expect(node(m, "m.expert.0.tied/matmul")?.input == ["m.expert.0.a", "m.expert.0.a.weight"])
  }
}
