import Foundation
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import Testing

@testable import NetcBackends

/// A PyTorch fixture from scripts/run/generate_fixtures.py: a spec, weights, an input and
/// the reference output, loss and gradients, all computed by PyTorch in float64.
struct TorchFixture {
  var name: String
  var root: YAMLNode

  static let names: [String] = {
    let dir = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/torch")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
  }()

  init(_ name: String) throws {
    self.name = name
    let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/torch/\(name).json")
    let source = SourceFile(path: url.path, text: try String(contentsOf: url, encoding: .utf8))
    root = try YAMLReader.read(source)!
  }

  subscript(key: String) -> YAMLNode? { root.mapping?.first { $0.key.scalar == key }?.value }

  func tensor<T: TensorScalar>(_ node: YAMLNode?, as: T.Type = T.self) throws -> Tensor<T> {
    try Tensor(TensorLiteral(node!))
  }
}

/// What a fixture's spec computes in precision `T`: output, loss and gradients by name.
func runFixture<T: TensorScalar>(_ f: TorchFixture, as: T.Type, forwardOnly: Bool = false) throws -> (
  output: Tensor<T>, loss: T, gradients: [String: Tensor<T>]
) {
  let spec = try SpecLoader.parse(SourceFile(path: "\(f.name).yaml", text: f["spec"]!.scalar!))
  let analysis = try analyze(spec.graph)
  let shapes = analysis.shapes
  let params: [LayerParameters<T>?] = try WeightBinding.bind(
    analysis.graph, shapes, sources: [.mapping(WeightsDecl(f["weights"]!), file: "fixture.json")], seed: 0)
  let interpreter = Interpreter(graph: analysis.graph, shapes: shapes, parameters: params, threads: 2, forwardOnly: forwardOnly)
  let x: Tensor<T> = try f.tensor(f["input"])
  let values = interpreter.forward(x)
  let y = values[analysis.graph.outputID]
  let loss = Loss(rawValue: f["loss"]!.scalar!)!
  let (value, dy) = try loss.evaluate(y, target: f.tensor(f["target"])).get()
  let g = interpreter.backward(values, outputGradient: dy)
  // Token ids have no gradient: PyTorch's fixture has none for them.
  var grads: [String: Tensor<T>] = analysis.graph.tokenInput ? [:] : ["input": g.input]
  for node in analysis.graph.layers {
    for kind in ParameterKind.allCases where kind.isLearnable {
      if let t = g.layers[node.id]?[kind] { grads["\(node.name).\(kind.rawValue)"] = t }
    }
  }
  return (y, value, grads)
}

/// Checks `actual` against the reference within `tolerance` relative to the reference's
/// largest magnitude (elementwise relative error is meaningless for entries near zero,
/// which sums of products with mixed signs produce).
///
/// `floor` is a magnitude below which the reference counts as zero by symmetry (a key
/// bias's gradient: softmax ignores a shift common to a row's scores), so that rounding
/// noise on both sides is compared against the fixture's scale, not against itself.
func expectClose<T: TensorScalar>(_ actual: Tensor<T>, _ expected: Tensor<Double>, tolerance: Double, _ what: String, floor: Double = 1e-30)
{
  #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs PyTorch \(expected.shape)")
  guard actual.shape == expected.shape else { return }
  let scale = max(expected.data.map { abs($0) }.max() ?? 0, floor)
  var worst = 0.0, at = 0
  for i in 0..<actual.count {
    let e = abs(Double(actual.data[i]) - expected.data[i]) / scale
    if e > worst { worst = e; at = i }
  }
  #expect(worst <= tolerance, "\(what): element \(at) is \(actual.data[at]), PyTorch \(expected.data[at]) (relative error \(worst))")
}

@Suite struct TorchFixtureTests {
  @Test func fixturesArePresent() {
    #expect(TorchFixture.names.count >= 18)
  }

  @Test(arguments: TorchFixture.names)
  func float64MatchesPyTorch(_ name: String) throws {
    let f = try TorchFixture(name)
    let (y, loss, grads) = try runFixture(f, as: Double.self)
    try check(f, y, loss, grads, tolerance: 1e-10)
  }

  @Test(arguments: TorchFixture.names)
  func float32MatchesPyTorch(_ name: String) throws {
    let f = try TorchFixture(name)
    let (y, loss, grads) = try runFixture(f, as: Float.self)
    try check(f, y, loss, grads, tolerance: 1e-5)
  }

  /// The fused output-only pass (BN folded, activations and adds fused) against PyTorch.
  @Test(arguments: TorchFixture.names)
  func fusedOutputMatchesPyTorch(_ name: String) throws {
    let f = try TorchFixture(name)
    expectClose(try fusedOutput(f, as: Double.self), try f.tensor(f["output"]), tolerance: 1e-10, "\(name) fused f64 output")
    expectClose(try fusedOutput(f, as: Float.self), try f.tensor(f["output"]), tolerance: 1e-5, "\(name) fused f32 output")
  }

  /// A forward-only fp32 interpreter (`netc run` without `--grad`) holds its linear
  /// weights packed once, in place of their `[out][in]` copies: its fused output, its
  /// unfused forward pass and the gradients (through the weights unpacked again) against
  /// PyTorch.
  @Test(arguments: TorchFixture.names)
  func forwardOnlyMatchesPyTorch(_ name: String) throws {
    let f = try TorchFixture(name)
    let spec = try SpecLoader.parse(SourceFile(path: "\(f.name).yaml", text: f["spec"]!.scalar!))
    let analysis = try analyze(spec.graph)
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(
      analysis.graph, analysis.shapes, sources: [.mapping(WeightsDecl(f["weights"]!), file: "fixture.json")], seed: 0)
    let interpreter = Interpreter(graph: analysis.graph, shapes: analysis.shapes, parameters: params, threads: 2, forwardOnly: true)
    let expected: Tensor<Double> = try f.tensor(f["output"])
    let x: Tensor<Float> = try f.tensor(f["input"])
    let linear = analysis.graph.layers.filter {
      [.linear, .attention, .router].contains($0.op) && analysis.shapes.nodes[$0.id].experts == 1
    }
    if PackedLinear.available {
      for node in linear {
        #expect(interpreter.linearPanels[node.id] != nil, "\(name): \(node.name) is packed")
        #expect(interpreter.parameters[node.id]?.weight == nil && interpreter.parameters[node.id]?.projections[.wq] == nil)
      }
    }
    expectClose(interpreter.output(x), expected, tolerance: 1e-5, "\(name) forward-only output")
    let (y, loss, grads) = try runFixture(f, as: Float.self, forwardOnly: true)
    try check(f, y, loss, grads, tolerance: 1e-5)
  }

  func fusedOutput<T: TensorScalar>(_ f: TorchFixture, as: T.Type) throws -> Tensor<T> {
    let spec = try SpecLoader.parse(SourceFile(path: "\(f.name).yaml", text: f["spec"]!.scalar!))
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    let params: [LayerParameters<T>?] = try WeightBinding.bind(
      analysis.graph, shapes, sources: [.mapping(WeightsDecl(f["weights"]!), file: "fixture.json")], seed: 0)
    let interpreter = Interpreter(graph: analysis.graph, shapes: shapes, parameters: params, threads: 2)
    return interpreter.output(try f.tensor(f["input"]))
  }

  func check<T: TensorScalar>(_ f: TorchFixture, _ y: Tensor<T>, _ loss: T, _ grads: [String: Tensor<T>], tolerance: Double) throws {
    expectClose(y, try f.tensor(f["output"]), tolerance: tolerance, "\(f.name) output")
    let expectedLoss = TensorLiteral.number(f["loss_value"]!)!
    #expect(abs(Double(loss) - expectedLoss) <= tolerance * max(abs(expectedLoss), 1), "\(f.name) loss \(loss) vs \(expectedLoss)")
    let expected = f["gradients"]!.mapping!
    #expect(Set(grads.keys) == Set(expected.map { $0.key.scalar! }), "\(f.name): gradient keys")
    let references: [(String, Tensor<Double>)] = try expected.map { ($0.key.scalar!, try f.tensor($0.value)) }
    // A gradient 1e-9 of the fixture's largest is zero by symmetry: checked at that scale.
    let largest = references.map { $0.1.data.map { abs($0) }.max() ?? 0 }.max() ?? 0
    for (key, reference) in references {
      guard let g = grads[key] else { continue }
      expectClose(
        g, reference, tolerance: tolerance, "\(f.name) d\(key)",
        floor: largest * 1e-9 > (reference.data.map { abs($0) }.max() ?? 0) ? largest : 1e-30)
    }
  }
}
