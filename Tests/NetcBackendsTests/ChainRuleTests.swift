import Foundation
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import Testing

@testable import NetcBackends

/// `run --explain --grad`: the derivation's own gradients equal the interpreter's (which
/// finite differences and PyTorch check), and its lines read as the exercises work them.
@Suite struct ChainRuleTests {
  func derive(_ text: String, input: [Double], target: [Double], seed: UInt64 = 3) throws -> (
    lines: [String], derived: [String: [Double]], interpreter: [String: [Double]]
  ) {
    let spec = try SpecLoader.parse(SourceFile(path: "t.yaml", text: text))
    let shapes = try inferShapes(spec.graph, bindings: [:])
    let params: [LayerParameters<Double>?] = try WeightBinding.bind(
      spec.graph, shapes, sources: spec.weights.map { [.mapping($0, file: "t.yaml")] } ?? [], seed: seed)
    let net = Interpreter(graph: spec.graph, shapes: shapes, parameters: params)
    let values = net.forward(Tensor(shape: shapes[0], data: input))
    let (_, dy) = try Loss.sse.evaluate(values[spec.graph.outputID], target: Tensor(shape: [target.count], data: target)).get()
    let g = net.backward(values, outputGradient: dy)
    var expected: [String: [Double]] = ["input": g.input.data]
    for node in spec.graph.layers {
      if let w = g.layers[node.id]?.weight { expected["\(node.name).weight"] = w.data }
      if let b = g.layers[node.id]?.bias { expected["\(node.name).bias"] = b.data }
    }
    let result = try ChainRule.derive(spec.graph, shapes, parameters: params, values: values, lossText: "", outputGradient: dy).get()
    return (result.lines, result.gradients, expected)
  }

  @Test func threeLayerMLPAsWorkedByHand() throws {
    // W1 = [[2, 1], [0, 1]], W2 = [[1, 1], [-1, 0]], W3 = [[1, 1]]; x = (1, -1):
    // l1 = (1, -1), l2 = (0, -1), z = -1; dL/dz = 2(z - t) = 2(-1 - 2) = -6;
    // dL/dW3 = -6 * (0, -1) = (0, 6); dL/dl2 = -6 * (1, 1); dL/dl1_1 = -6*1 + -6*(-1) = 0.
    let text = """
      name: mlp3
      input: 2
      layers: [FC-2 bias false name l1, FC-2 bias false name l2, FC-1 bias false name l3]
      weights:
        l1: { weight: [[2, 1], [0, 1]] }
        l2: { weight: [[1, 1], [-1, 0]] }
        l3: { weight: [[1, 1]] }
      """
    let r = try derive(text, input: [1, -1], target: [2])
    #expect(r.derived["l3.weight"] == [0, 6])
    #expect(r.derived["input"] == [0, -6])
    #expect(r.lines.contains("  dL/dw_ij = dL/dl3_i * l2_j: dL/dl3.w_1_1 = (-6) * 0 = 0, dL/dl3.w_1_2 = (-6) * (-1) = 6"))
    #expect(r.lines.contains("  dL/dl1_j = sum_i dL/dl2_i * w_ij: dL/dl1_1 = (-6)*1 + (-6)*(-1) = 0, dL/dl1_2 = (-6)*1 + (-6)*0 = -6"))
    for (key, value) in r.interpreter { #expect(r.derived[key] == value, "\(key)") }
  }

  @Test(arguments: [
    "name: t\ninput: 6x1\nlayers: [CONV3-2 stride 2 pad 1, RELU, POOL-2 stride 1, FLATTEN, FC-3]",
    "name: t\ninput: 5x5x2\nlayers: [CONV3-2 pad 1, RELU, POOL-2, FLATTEN, FC-3]",
    "name: t\ninput: 6x6x1\nlayers: [CONV2-3 stride 2, RELU, FLATTEN, FC-3 bias false]",
  ])
  func derivedGradientsAreTheInterpreters(text: String) throws {
    let shape = try inferShapes(SpecLoader.parse(SourceFile(path: "t.yaml", text: text)).graph, bindings: [:])[0]
    let n = shape.reduce(1, *)
    let r = try derive(text, input: (0..<n).map { Double(($0 * 7) % 11) / 5 - 1 }, target: [0.3, -0.2, 0.5])
    #expect(Set(r.derived.keys) == Set(r.interpreter.keys))
    for (key, value) in r.interpreter {
      let mine = try #require(r.derived[key])
      #expect(mine.count == value.count)
      for (a, b) in zip(mine, value) { #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(key)") }
    }
  }

  @Test func unsupportedLayersAndLargeNetworksAreRefused() throws {
    let bn = "name: t\ninput: 4x4x1\nlayers: [CONV3-2, BN, FLATTEN, FC-3]"
    let spec = try SpecLoader.parse(SourceFile(path: "t.yaml", text: bn))
    let shapes = try inferShapes(spec.graph, bindings: [:])
    let params: [LayerParameters<Double>?] = try WeightBinding.bind(spec.graph, shapes, sources: [], seed: 0)
    let values = Interpreter(graph: spec.graph, shapes: shapes, parameters: params).forward(Tensor(shape: [4, 4, 1], repeating: 1))
    let refused = ChainRule.derive(
      spec.graph, shapes, parameters: params, values: values, lossText: "", outputGradient: Tensor(shape: [3], repeating: 1))
    guard case .failure(let why) = refused else {
      Issue.record("BN was written out")
      return
    }
    #expect(why.message.hasSuffix("`bn1` is bn"))
  }
}
