import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import Testing

@testable import NetcBackends

/// Finite differences against the backward pass on random small specs (float64).
@Suite struct GradientCheckTests {
  /// Random specs: a pick of window ops, BN, activations and structures, each on a random
  /// small input. Shapes are kept valid by construction (`pad same`, kernel <= extent).
  static func randomSpec(_ rng: inout SplitMix64) -> String {
    func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
    let oneD = pick([true, false])
    let extent = 5 + Int(rng.next() % 3), c = 1 + Int(rng.next() % 3)
    var layers: [String] = []
    let convs = [
      "CONV3-\(2 + Int(rng.next() % 2)) pad same stride \(pick([1, 2]))",
      "CONV2-2 pad same dilation 2",
      "DWCONV3 pad 1",
      "PWCONV-3",
      "CONV3-4 groups \(c == 2 ? 2 : 1) pad 1 bias false",
    ]
    let acts = ["TANH", "SIGMOID", "GELU", "LEAKYRELU slope 0.1", "SOFTMAX", "IDENTITY"]
    for _ in 0..<(2 + Int(rng.next() % 2)) {
      layers.append(pick(convs))
      if rng.next() % 2 == 0 { layers.append("BN") }
      layers.append(pick(acts))
    }
    layers.append(pick(["AVGPOOL-2 pad 1 round ceil", "POOL-2 stride 1", "GAP"]))
    layers.append("FLATTEN")
    layers.append("FC-3")
    let body = layers.map { "  - \"\($0)\"" }.joined(separator: "\n")
    let residual =
      rng.next() % 2 == 0
      ? "\n  - residual:\n      body: [\"CONV3-4 pad 1\", TANH]\n      shortcut: auto" : ""
    let input = oneD ? "\(extent)x\(c)" : "\(extent)x\(extent - 1)x\(c)"
    return "name: random\ninput: \(input)\nlayers:\(residual)\n\(body)\n"
  }

  @Test(arguments: 0..<12)
  func backwardMatchesFiniteDifferences(_ seed: Int) throws {
    var rng = SplitMix64(seed: UInt64(seed) &* 7919)
    let text = Self.randomSpec(&rng)
    let spec = try SpecLoader.parse(SourceFile(path: "random\(seed).yaml", text: text))
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    var params: [LayerParameters<Double>?] = try WeightBinding.bind(analysis.graph, shapes, sources: [], seed: UInt64(seed))
    // Non-trivial BN statistics and affine parameters.
    for i in params.indices where params[i]?.gamma != nil {
      for kind in [ParameterKind.gamma, .beta, .mean, .variance] {
        let n = params[i]![kind]!.count
        params[i]![kind] = Tensor(
          shape: [n], data: (0..<n).map { _ in kind == .variance || kind == .gamma ? rng.uniform(0.5, 1.5) : rng.uniform(-0.3, 0.3) })
      }
    }
    let inShape = shapes[0]
    let x = Tensor<Double>(shape: inShape, data: (0..<inShape.reduce(1, *)).map { _ in rng.uniform(-1, 1) })
    let target = Tensor<Double>(shape: [3], data: [0.3, -0.2, 0.5])

    func loss(_ p: [LayerParameters<Double>?], _ x: Tensor<Double>) -> Double {
      let net = Interpreter(graph: analysis.graph, shapes: shapes, parameters: p)
      return try! Loss.sse.evaluate(net.output(x), target: target).get().0
    }
    let net = Interpreter(graph: analysis.graph, shapes: shapes, parameters: params)
    let values = net.forward(x)
    let (_, dy) = try Loss.sse.evaluate(values[analysis.graph.outputID], target: target).get()
    let g = net.backward(values, outputGradient: dy)

    let h = 1e-6
    func check(_ analytic: Double, _ plus: Double, _ minus: Double, _ what: String) {
      let numeric = (plus - minus) / (2 * h)
      #expect(
        abs(analytic - numeric) <= 1e-5 * max(1, abs(numeric)), "\(what): backward \(analytic), finite difference \(numeric)\n\(text)")
    }
    for i in stride(from: 0, to: x.count, by: max(1, x.count / 8)) {
      var xp = x, xm = x
      xp.data[i] += h
      xm.data[i] -= h
      check(g.input.data[i], loss(params, xp), loss(params, xm), "input[\(i)]")
    }
    for node in analysis.graph.layers {
      for kind in ParameterKind.allCases where kind.isLearnable {
        guard let t = params[node.id]?[kind], let analytic = g.layers[node.id]?[kind] else { continue }
        for i in stride(from: 0, to: t.count, by: max(1, t.count / 3)) {
          var pp = params, pm = params
          pp[node.id]![kind]!.data[i] += h
          pm[node.id]![kind]!.data[i] -= h
          check(analytic.data[i], loss(pp, x), loss(pm, x), "\(node.name).\(kind.rawValue)[\(i)]")
        }
      }
    }
  }

  /// One spec per netc 0.2 kernel (each a few layers so that gradients reach every input),
  /// with the same central differences (fp64, h = 1e-6).
  static let modernSpecs: [String] = [
    "input: 3x4\nlayers: [SILU, HARDSWISH, \"GELU tanh\", HARDSIGMOID, DROPPATH, LINEAR-3]",
    "input: 2x3x4\nlayers: [LN, LAYERSCALE, \"RMSNORM bias true\", \"LN bias false\", LINEAR-2]",
    "input: 4x4\nlayers: [CLSTOKEN, POSEMBED-6, TYPEEMBED-2, POSEMBED sinusoidal, \"TAKE index -2\"]",
    "input: 3x3x4\nlayers: [\"PAD pad 0:1,1:0\", SHUFFLE-2, UPSAMPLE-2 bilinear, \"UPSAMPLE size 5x3\", TOKENS, LINEAR-2]",
    "input: 3x3x4\nlayers: [{parallel: {split: true, branches: [[], [CONV1-2]]}}, {parallel: {merge: mul, branches: [[], [GAP, SIGMOID]]}}]",
    "input: 3x3x2\nlayers: [\"DECONV3-3 stride 2 pad 1 outpad 1\", TANH, \"DECONV2-4 groups 1 dilation 2\"]",
    "input: 5x8\nlayers: [ATTN-4 kv 2 causal rope, LN, ATTN-2 dim 3 bias false]",
    "input: 6x4\nlayers: [LINEAR-5 name m, AVGPOOL-2, ATTN-2 kv 1 dim 2 cross m]",
    // Dilated average pools, one with ceil windows past the padding (smaller divisors).
    "input: 8x7x2\nlayers: [\"AVGPOOL-3 stride 2 pad 1 dilation 2 round ceil\", TANH, \"AVGPOOL-2 stride 1 dilation 2,1\", FLATTEN, FC-3]",
    "input: 5 tokens\nlayers: [EMBED-4 vocab 7 name e, LN, LINEAR-7 bias false tie e]",
    // Two mixtures of different sizes; the second's experts normalise and mix positions
    // (a conv over the sequence), so every expert runs on the whole input.
    "input: 6x4\nlayers: [{moe: {experts: 3, top: 2, layers: [LINEAR-5, SILU, LINEAR-4]}}, RMSNORM, {moe: {experts: 2, top: 1, layers: [LN, CONV3-4 pad 1]}}]",
  ]

  @Test(arguments: modernSpecs.indices)
  func modernBackwardMatchesFiniteDifferences(_ index: Int) throws {
    let text = "name: modern\n" + Self.modernSpecs[index] + "\n"
    var rng = SplitMix64(seed: UInt64(index) &+ 101)
    let spec = try SpecLoader.parse(SourceFile(path: "modern\(index).yaml", text: text))
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    var params: [LayerParameters<Double>?] = try WeightBinding.bind(analysis.graph, shapes, sources: [], seed: UInt64(index))
    // Norm scales away from 1 and shifts away from 0, so their gradients are not special.
    for i in params.indices {
      for kind in [ParameterKind.gamma, .beta] where params[i]?[kind] != nil {
        let n = params[i]![kind]!.count
        params[i]![kind]!.data = (0..<n).map { _ in kind == .gamma ? rng.uniform(0.5, 1.5) : rng.uniform(-0.3, 0.3) }
      }
    }
    let inShape = shapes[0], tokens = analysis.graph.tokenInput
    let x = Tensor<Double>(
      shape: inShape, data: (0..<inShape.reduce(1, *)).map { i in tokens ? Double((i * 3) % 7) : rng.uniform(-2, 2) })
    let outShape = shapes[analysis.graph.outputID]
    let target = Tensor<Double>(shape: outShape, data: (0..<outShape.reduce(1, *)).map { _ in rng.uniform(-1, 1) })

    func loss(_ p: [LayerParameters<Double>?], _ x: Tensor<Double>) -> Double {
      let net = Interpreter(graph: analysis.graph, shapes: shapes, parameters: p)
      return try! Loss.sse.evaluate(net.output(x), target: target).get().0
    }
    let net = Interpreter(graph: analysis.graph, shapes: shapes, parameters: params)
    let values = net.forward(x)
    let (_, dy) = try Loss.sse.evaluate(values[analysis.graph.outputID], target: target).get()
    let g = net.backward(values, outputGradient: dy)
    let h = 1e-6
    func check(_ analytic: Double, _ plus: Double, _ minus: Double, _ what: String) {
      let numeric = (plus - minus) / (2 * h)
      #expect(
        abs(analytic - numeric) <= 1e-5 * max(1, abs(numeric)), "\(what): backward \(analytic), finite difference \(numeric)\n\(text)")
    }
    if !tokens {
      for i in 0..<x.count {
        var xp = x, xm = x
        xp.data[i] += h
        xm.data[i] -= h
        check(g.input.data[i], loss(params, xp), loss(params, xm), "input[\(i)]")
      }
    }
    for node in analysis.graph.layers {
      for kind in ParameterKind.allCases where kind.isLearnable {
        guard let t = params[node.id]?[kind] else { continue }
        guard let analytic = g.layers[node.id]?[kind] else {
          Issue.record("no gradient for \(node.name).\(kind.rawValue)")
          continue
        }
        for i in stride(from: 0, to: t.count, by: max(1, t.count / 5)) {
          var pp = params, pm = params
          pp[node.id]![kind]!.data[i] += h
          pm[node.id]![kind]!.data[i] -= h
          check(analytic.data[i], loss(pp, x), loss(pm, x), "\(node.name).\(kind.rawValue)[\(i)]")
        }
      }
    }
  }
}

/// Softmax, LayerNorm and attention on logits of 1e4 and more: finite, as shifted by the
/// row's maximum they must be.
@Suite struct NumericalSafetyTests {
  @Test(arguments: ["[ATTN-2 causal, LN]", "[LN, SOFTMAX]", "[ATTN-2 kv 1 rope, RMSNORM]"])
  func hugeLogitsStayFinite(_ layers: String) throws {
    let spec = try SpecLoader.parse(SourceFile(path: "huge.yaml", text: "name: huge\ninput: 4x4\nlayers: \(layers)\n"))
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    let params: [LayerParameters<Float>?] = try WeightBinding.bind(analysis.graph, shapes, sources: [], seed: 3)
    let net = Interpreter(graph: analysis.graph, shapes: shapes, parameters: params)
    // Scores of about 1e4 * 1e4 / 2: exp would overflow Float without the shift.
    let x = Tensor<Float>(shape: [4, 4], data: (0..<16).map { Float($0 % 5 - 2) * 1e4 })
    let values = net.forward(x)
    let finite = values.allSatisfy { v in v.data.allSatisfy { $0.isFinite } }
    #expect(finite)
    let g = net.backward(values, outputGradient: Tensor(shape: shapes[analysis.graph.outputID], repeating: 1))
    #expect(g.input.data.allSatisfy { $0.isFinite })
    let y = net.output(x)
    #expect(y.data.allSatisfy { $0.isFinite })
  }
}
