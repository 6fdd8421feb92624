import Foundation
import NetcBackends
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcONNX
import NetcPasses
import NetcTestSupport
import Testing

/// A reference spec exported and imported again keeps its figures and, on the exported
/// weights, its output: two independent paths through netc (the exporter's and the
/// importer's layouts and arithmetic) must agree.
@Suite struct ONNXRoundTripTests {
  func roundTrip(_ name: String, run: Bool) throws {
    let spec = try SpecLoader.parse(SpecFileLoader.load(path: repositoryPath("specs/\(name).yaml")))
    let a = try analyze(spec.graph)
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(a.graph, a.shapes, sources: [], seed: 0)
    let bytes = try ONNXExport.bytes(a.graph, a.shapes, parameters: params)
    let imported = try ONNXImport.read(bytes: bytes, path: "/nonexistent/\(name).onnx")
    let back = try SpecLoader.parse(SourceFile(path: "\(name).yaml", text: imported.text))
    let b = try analyze(back.graph)
    #expect(b.costs.total.params == a.costs.total.params, "\(imported.text)")
    #expect(b.costs.total.buffers == a.costs.total.buffers)
    #expect(b.costs.total.macs == a.costs.total.macs)
    #expect(b.shapes[back.graph.outputID] == a.shapes[a.graph.outputID])
    guard run else { return }
    let dir = NSTemporaryDirectory() + "netc-roundtrip-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for (n, t) in imported.weights { try FileSystem.write(NpyFile.encode(t), to: "\(dir)/\(n).npy") }
    let backParams: [LayerParameters<Float>?] = try WeightBinding.bind(back.graph, b.shapes, sources: [.directory(dir)], seed: 7)
    let shape = a.shapes[0]
    let n = shape.reduce(1, *)
    let x = Tensor<Float>(shape: shape, data: (0..<n).map { Float(sin(Double($0) * 0.37)) })
    let y0 = Interpreter(graph: a.graph, shapes: a.shapes, parameters: params).output(x)
    let y1 = Interpreter(graph: back.graph, shapes: b.shapes, parameters: backParams).output(x)
    let scale = y0.data.map(abs).max() ?? 1
    let err = zip(y0.data, y1.data).map { abs($0 - $1) }.max() ?? 0
    #expect(err <= 1e-5 * scale, "\(name): \(err) against \(scale)")
  }

  @Test(arguments: ["small-cnn", "lenet5", "mlp-mnist", "inception-block", "conv3x3-30x30x20", "sepconv3x3-30x30x20", "run-mlp3"])
  func smallSpecsKeepFiguresAndOutputs(_ name: String) throws { try roundTrip(name, run: true) }

  /// netc's own names come back: a structure's merge (`inception3a.concat`) names the
  /// structure, its layers (`inception3a.branch2.conv2`) are the branch's, netc's defaults
  /// (`conv2`) are left out; a tied head keeps its own name, not its table's.
  @Test func namesComeBack() throws {
    let spec = try SpecLoader.parse(SpecFileLoader.load(path: repositoryPath("specs/inception-block.yaml")))
    let a = try analyze(spec.graph)
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(a.graph, a.shapes, sources: [], seed: 0)
    let text = try ONNXImport.read(bytes: ONNXExport.bytes(a.graph, a.shapes, parameters: params), path: "/nonexistent/i.onnx").text
    #expect(text.contains("  - parallel:\n      name: inception3a\n      merge: concat\n"), "\(text)")
    #expect(text.contains("          - CONV1-96\n          - RELU\n          - CONV3-128 pad 1\n          - RELU\n"), "\(text)")
    #expect(!text.contains(" name "), "\(text)")
    let gpt = try SpecLoader.parse(SpecFileLoader.load(path: repositoryPath("scripts/onnx/specs/gpt2_tiny.yaml")))
    let g = try analyze(gpt.graph, bindings: ["T": 8])
    let gParams: [LayerParameters<Float>?] = try WeightBinding.bind(g.graph, g.shapes, sources: [], seed: 0)
    let back = try ONNXImport.read(bytes: ONNXExport.bytes(g.graph, g.shapes, parameters: gParams), path: "/nonexistent/g.onnx").text
    let original = try String(contentsOfFile: repositoryPath("scripts/onnx/specs/gpt2_tiny.yaml"), encoding: .utf8)
    let head = try #require(original.split(separator: "\n").last { $0.contains("tie") })
    #expect(back.contains(head.trimmingCharacters(in: .whitespaces)), "\(head) in \(back)")
  }

  @Test(arguments: ["resnet18", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0"])
  func referenceSpecsKeepFigures(_ name: String) throws { try roundTrip(name, run: false) }
}
