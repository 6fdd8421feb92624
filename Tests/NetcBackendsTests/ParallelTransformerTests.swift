import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import Testing

@testable import NetcBackends

/// Threads split a linear layer's columns, attention's heads and GELU's elements, never one
/// element's arithmetic: two threads must give one thread's output bit for bit, in the
/// fused output pass and in the unfused forward pass, and the same gradients. The sizes
/// put every loop above `parallelThreshold`, so the split really happens.
@Suite struct ParallelTransformerTests {
  static let spec = """
    name: parallel-gpt2-block
    input: 64x96
    layers:
      - residual: {name: attn, body: [LN, ATTN-6 causal]}
      - residual: {name: mlp, body: [LN, LINEAR-384, GELU tanh, LINEAR-96]}
      - LINEAR-1000
    """

  func run<T: TensorScalar>(_: T.Type, threads: Int) throws -> (output: Tensor<T>, forward: Tensor<T>, gradients: [LayerParameters<T>?]) {
    let spec = try SpecLoader.parse(SourceFile(path: "parallel.yaml", text: Self.spec))
    let a = try analyze(spec.graph)
    let params: [LayerParameters<T>?] = try WeightBinding.bind(a.graph, a.shapes, sources: [], seed: 3)
    let interpreter = Interpreter(graph: a.graph, shapes: a.shapes, parameters: params, threads: threads)
    let n = a.shapes[0].reduce(1, *)
    let x = Tensor<T>(shape: a.shapes[0], data: (0..<n).map { T(Double(($0 * 37) % 101) / 50 - 1) })
    let values = interpreter.forward(x)
    let y = values[a.graph.outputID]
    let g = interpreter.backward(values, outputGradient: Tensor(shape: y.shape, data: y.data.map { $0 / 100 }))
    return (interpreter.output(x), y, g.layers)
  }

  @Test func twoThreadsGiveOneThreadsNumbers() throws {
    let one = try run(Float.self, threads: 1), two = try run(Float.self, threads: 2)
    #expect(one.output.data == two.output.data)
    #expect(one.forward.data == two.forward.data)
    #expect(one.output.data == one.forward.data)
    var compared = 0
    for (a, b) in zip(one.gradients, two.gradients) {
      for kind in ParameterKind.allCases {
        guard let t = a?[kind] else { continue }
        #expect(t.data == b?[kind]?.data, "\(kind)")
        compared += 1
      }
    }
    #expect(compared >= 10)
    let d1 = try run(Double.self, threads: 1), d2 = try run(Double.self, threads: 2)
    #expect(d1.output.data == d2.output.data)
  }
}
