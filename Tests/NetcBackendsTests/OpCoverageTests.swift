import Foundation
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import Testing

@testable import NetcBackends

/// Every op kind, one by one: it has a spelling (or is made by structures), a schema entry
/// and a docs row, a shape and cost rule that the symbolic analysis agrees with, a forward
/// and backward pass in the interpreter, a kernel in the emitter, and a PyTorch fixture
/// that uses it. A new op fails here until each of these exists.
@Suite struct OpCoverageTests {
  /// A small spec that uses each op (its input and layers, as YAML).
  static func example(_ op: OpKind) -> (input: String, layers: String) {
    switch op {
    case .input: ("4x4x2", "[RELU]")
    case .conv: ("5x5x2", "[CONV3-3 pad 1 stride 2]")
    case .dwconv: ("5x5x2", "[DWCONV3-2 pad 1]")
    case .pwconv: ("5x5x2", "[PWCONV-3]")
    case .maxpool: ("5x5x2", "[POOL-2 stride 1]")
    case .avgpool: ("5x5x2", "[AVGPOOL-3 stride 2 pad 1 round ceil]")
    case .gap: ("4x4x2", "[GAP]")
    case .gmp: ("4x4x2", "[GMP]")
    case .fc: ("6", "[FC-3]")
    case .flatten: ("2x3x2", "[FLATTEN]")
    case .bn: ("4x4x2", "[BN]")
    case .relu: ("4x4x2", "[RELU]")
    case .relu6: ("4x4x2", "[RELU6]")
    case .sigmoid: ("4x4x2", "[SIGMOID]")
    case .tanh: ("4x4x2", "[TANH]")
    case .softmax: ("3x4", "[SOFTMAX]")
    case .gelu: ("4x4x2", "[GELU]")
    case .identity: ("4x4x2", "[CONV1-2, IDENTITY]")
    case .leakyrelu: ("4x4x2", "[LEAKYRELU slope 0.1]")
    case .dropout: ("4x4x2", "[CONV1-2, DROPOUT p 0.3]")
    case .add: ("4x4x2", "[{residual: {body: [CONV3-2 pad 1]}}]")
    case .concat: ("4x4x2", "[{parallel: {branches: [[CONV1-1], [CONV1-2]]}}]")
    case .deconv: ("4x4x2", "[DECONV3-3 stride 2 pad 1 outpad 1]")
    case .linear: ("3x4", "[LINEAR-5]")
    case .layernorm: ("3x4", "[LN]")
    case .rmsnorm: ("3x4", "[RMSNORM]")
    case .silu: ("4x4x2", "[SILU]")
    case .hardswish: ("4x4x2", "[HARDSWISH]")
    case .hardsigmoid: ("4x4x2", "[HARDSIGMOID]")
    case .droppath: ("4x4x2", "[CONV1-2, DROPPATH p 0.1]")
    case .layerscale: ("3x4", "[LAYERSCALE]")
    case .embed: ("5 tokens", "[EMBED-4 vocab 10]")
    case .posembed: ("3x4", "[POSEMBED-8]")
    case .typeembed: ("3x4", "[TYPEEMBED-2]")
    case .clstoken: ("3x4", "[CLSTOKEN]")
    case .tokens: ("2x3x4", "[TOKENS]")
    case .take: ("3x4", "[TAKE index -1]")
    case .attention: ("3x8", "[ATTN-4 kv 2 causal]")
    case .upsample: ("2x2x3", "[UPSAMPLE-2]")
    case .pad: ("2x2x3", "[PAD-1]")
    case .shuffle: ("2x2x4", "[SHUFFLE-2]")
    case .mul: ("4x4x2", "[{parallel: {merge: mul, branches: [[], [GAP, SIGMOID]]}}]")
    case .router, .moe: ("3x4", "[{moe: {experts: 4, top: 2, layers: [LINEAR-4]}}]")
    case .slice: ("4x4x4", "[{parallel: {split: true, branches: [[], [CONV1-2]]}}]")
    }
  }

  static func parse(_ op: OpKind) throws -> Spec {
    let (input, layers) = example(op)
    return try SpecLoader.parse(SourceFile(path: "\(op).yaml", text: "name: \(op)\ninput: \(input)\nlayers: \(layers)\n"))
  }

  @Test("the op has a spelling, a schema entry and a docs row, or only structures make it", arguments: OpKind.allCases)
  func definition(_ op: OpKind) {
    let d = op.definition
    guard let spelling = d.spelling else {
      // The input, the merges and the parts of structures (a mixture's router, a split's
      // slices) have no layer spelling: the spec's `input:` and the structures make them.
      #expect(op == .input ? d.arity == .none : d.arity == .many || [.router, .slice].contains(op), "\(op) has no spelling")
      return
    }
    #expect(spelling.op == op)
    #expect(LayerSpelling.all.contains { $0.name == spelling.name })
    #expect(OpTableDoc.markdown.contains("| `\(spelling.name.uppercased())`"), "no docs row")
    for word in [spelling.name] + spelling.aliases {
      #expect(SpecSchema.text.contains("\"\(word)\": {"), "no schema entry for `\(word)`")
    }
    #expect(!d.summary.isEmpty)
  }

  @Test("the shape and cost rules give the same figures concretely and symbolically", arguments: OpKind.allCases)
  func rules(_ op: OpKind) throws {
    let spec = try Self.parse(op)
    #expect(spec.graph.nodes.contains { $0.op == op }, "the example does not use \(op)")
    let concrete = try analyze(spec.graph)
    let symbolic = try analyzeSymbolic(spec.graph, bindings: [:], free: [])
    for node in spec.graph.nodes {
      let s = symbolic.nodes[node.id], c = concrete.costs.nodes[node.id]
      #expect(s.shape?.map(\.constant) == concrete.shapes[node.id].map { Optional($0) }, "\(node.name)")
      #expect(
        [s.params, s.buffers, s.macs, s.activations, s.activeParams, s.activeMacs].map { $0?.constant }
          == [c.params, c.buffers, c.macs, c.activations, c.activeParams, c.activeMacs], "\(node.name)")
    }
  }

  @Test(
    "the interpreter runs the op forward and backward, and the emitter writes it; a backend that cannot refuses it",
    arguments: OpKind.allCases)
  func backends(_ op: OpKind) throws {
    let spec = try Self.parse(op)
    // A backend that refuses the op refuses it up front, by name, at the layer: never a
    // crash or a silent copy. Each backend is checked on its own: `run` may execute an op
    // that `emit` does not write yet.
    for backend in [Backend.run, .emit] where !backend.executes(op) {
      let refused = unexecutableLayers(spec.graph, by: backend)
      #expect(!refused.isEmpty && refused.allSatisfy { $0.code == .notExecutable }, "\(backend) on \(op)")
      #expect(refused.contains { $0.message.contains("\(op.mnemonic.uppercased()) layers") }, "\(backend) does not name \(op)")
    }
    guard Interpreter<Double>.executes(op) else { return }
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    let params: [LayerParameters<Double>?] = try WeightBinding.bind(analysis.graph, shapes, sources: [], seed: 1)
    let interpreter = Interpreter(graph: analysis.graph, shapes: shapes, parameters: params, threads: 1)
    let n = shapes[0].reduce(1, *)
    // Token ids are whole numbers inside every example's vocabulary.
    let tokens = analysis.graph.tokenInput
    let data: [Double] = (0..<n).map { (i: Int) -> Double in tokens ? Double(i % 3) : Double(i % 7) / 3 - 1 }
    let x = Tensor<Double>(shape: shapes[0], data: data)
    let values = interpreter.forward(x)
    let y = values[analysis.graph.outputID]
    #expect(y.shape == shapes[analysis.graph.outputID])
    #expect(y.data.allSatisfy { $0.isFinite })
    let g = interpreter.backward(values, outputGradient: Tensor(shape: y.shape, repeating: 1))
    #expect(g.input.shape == x.shape)
    #expect(g.input.data.allSatisfy { $0.isFinite })

    guard SwiftEmitter.emits(op) else { return }
    let floats: [LayerParameters<Float>?] = params.map { $0?.converted(to: Float.self) }
    let net = SwiftEmitter.emit(graph: analysis.graph, shapes: shapes, parameters: floats)
    // Ops that alias their input at inference are no step of their own.
    if op != .input && !op.traits.contains(.aliasAtInference) {
      #expect(net.source.contains(op.mnemonic), "the emitted source has no step for \(op)")
    }
  }

  @Test("a PyTorch fixture uses every op")
  func torchFixtures() throws {
    var used = Set<OpKind>()
    for name in TorchFixture.names {
      let f = try TorchFixture(name)
      let spec = try SpecLoader.parse(SourceFile(path: "\(name).yaml", text: f["spec"]!.scalar!))
      used.formUnion(spec.graph.nodes.map(\.op))
    }
    let executable = Set(OpKind.allCases.filter { Interpreter<Double>.executes($0) })
    #expect(executable.subtracting(used).isEmpty, "no fixture uses \(executable.subtracting(used))")
  }
}
