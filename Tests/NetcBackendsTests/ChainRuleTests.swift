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
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    let params: [LayerParameters<Double>?] = try WeightBinding.bind(
      analysis.graph, shapes, sources: spec.weights.map { [.mapping($0, file: "t.yaml")] } ?? [], seed: seed)
    let net = Interpreter(graph: analysis.graph, shapes: shapes, parameters: params)
    let values = net.forward(Tensor(shape: shapes[0], data: input))
    let (_, dy) = try Loss.sse.evaluate(values[analysis.graph.outputID], target: Tensor(shape: [target.count], data: target)).get()
    let g = net.backward(values, outputGradient: dy)
    var expected: [String: [Double]] = ["input": g.input.data]
    for node in analysis.graph.layers {
      if let w = g.layers[node.id]?.weight { expected["\(node.name).weight"] = w.data }
      if let b = g.layers[node.id]?.bias { expected["\(node.name).bias"] = b.data }
      if let gamma = g.layers[node.id]?.gamma { expected["\(node.name).gamma"] = gamma.data }
      if let beta = g.layers[node.id]?.beta { expected["\(node.name).beta"] = beta.data }
    }
    let result = try ChainRule.derive(analysis.graph, shapes, parameters: params, values: values, lossText: "", outputGradient: dy).get()
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
    "name: t\ninput: 5x5x2\nlayers: [CONV3-2 pad 1, BN, SIGMOID, AVGPOOL-2 stride 2 pad 1, FLATTEN, FC-3]",
    "name: t\ninput: 6x6x1\nlayers: [CONV3-3, BN, TANH, AVGPOOL-3 stride 1, RELU6, GAP, FLATTEN, FC-3]",
    "name: t\ninput: 4x4x2\nlayers: [CONV3-2 pad 1, LEAKYRELU slope 0.1, AVGPOOL-2, FLATTEN, FC-3]",
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

  @Test func batchNormAndSigmoidAsWorkedByHand() throws {
    // BN at inference with gamma 2, beta 1, mean 1, var 3, eps 1: sd = sqrt(3 + 1) = 2,
    // y = 2 (x - 1)/2 + 1 = x; on x = (3, -1): y = (3, -1), then sigmoid and SSE to (0, 0).
    // dL/dx_i = dL/dy_i * 2/2; dL/dgamma = sum dL/dy_i * (x_i - 1)/2 = dL/dy_1*1 + dL/dy_2*(-1).
    let text = """
      name: bn
      input: 2x1
      layers: [BN eps 1 name b, SIGMOID name s, FLATTEN name f]
      weights:
        b: { gamma: [2], beta: [1], mean: [1], var: [3] }
      """
    let r = try derive(text, input: [3, -1], target: [0, 0])
    let s1 = 1 / (1 + exp(-3.0)), s2 = 1 / (1 + exp(1.0))
    // SSE: dL/ds = 2 (s - 0); sigmoid: dL/db = dL/ds * s (1 - s).
    let db = [2 * s1 * s1 * (1 - s1), 2 * s2 * s2 * (1 - s2)]
    for (a, b) in zip(try #require(r.derived["input"]), db) { #expect(abs(a - b) < 1e-12) }
    #expect(abs((r.derived["b.gamma"]?[0] ?? 0) - (db[0] - db[1])) < 1e-12)
    #expect(abs((r.derived["b.beta"]?[0] ?? 0) - (db[0] + db[1])) < 1e-12)
    #expect(r.lines.contains { $0.hasPrefix("s (sigmoid): dL/db_i = dL/ds_i * s_i * (1 - s_i)") })
    for (key, value) in r.interpreter {
      for (a, b) in zip(try #require(r.derived[key]), value) { #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(key)") }
    }
  }

  @Test func unsupportedLayersAndLargeNetworksAreRefused() throws {
    let bn = "name: t\ninput: 4x4x1\nlayers: [CONV3-2, FLATTEN, FC-3, SOFTMAX]"
    let spec = try SpecLoader.parse(SourceFile(path: "t.yaml", text: bn))
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    let params: [LayerParameters<Double>?] = try WeightBinding.bind(analysis.graph, shapes, sources: [], seed: 0)
    let values = Interpreter(graph: analysis.graph, shapes: shapes, parameters: params).forward(Tensor(shape: [4, 4, 1], repeating: 1))
    let refused = ChainRule.derive(
      analysis.graph, shapes, parameters: params, values: values, lossText: "", outputGradient: Tensor(shape: [3], repeating: 1))
    guard case .failure(let why) = refused else {
      Issue.record("softmax was written out")
      return
    }
    #expect(why.message.hasSuffix("`softmax1` is softmax"))
  }
}
