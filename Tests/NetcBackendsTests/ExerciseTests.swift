import Foundation
import NetcDiagnostics
import NetcFrontend
import NetcPasses
import Testing

@testable import NetcBackends

/// The spec at `specs/NAME.yaml` in the repository, bound to its inline weights.
func exercise<T: TensorScalar>(_ name: String, as: T.Type = T.self) throws -> (Interpreter<T>, Int) {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  let path = root.appendingPathComponent("specs/\(name).yaml").path
  let spec = try SpecLoader.load(path: path)
  let analysis = try analyze(spec.graph)
  let shapes = analysis.shapes
  let params: [LayerParameters<T>?] = try WeightBinding.bind(
    analysis.graph, shapes, sources: [.mapping(spec.weights!, file: path)], seed: 0)
  return (Interpreter(graph: analysis.graph, shapes: shapes, parameters: params), analysis.graph.outputID)
}

/// The classic exercises, with every expected number worked out by hand next to it.
@Suite struct ExerciseTests {
  /// 8x8 checkerboard (1 where row + column is even) through a 3x3 box filter of 1/9.
  /// Each 3x3 window holds its centre's colour on the centre and the 4 corners (5 squares)
  /// and the other colour on the 4 edges: output (i, j) is centred on input (i+1, j+1),
  /// which is 1 when i + j is even, so the output is 5/9 there and 4/9 elsewhere.
  @Test func checkerboardBlur() throws {
    let (net, out) = try exercise("run-checkerboard", as: Double.self)
    let board = (0..<64).map { Double(($0 / 8 + $0 % 8 + 1) % 2 == 1 ? 1 : 0) }
    let y = net.forward(Tensor(shape: [8, 8, 1], data: board))[out]
    #expect(y.shape == [6, 6, 1])
    for i in 0..<6 {
      for j in 0..<6 {
        let expected = (i + j) % 2 == 0 ? 5.0 / 9 : 4.0 / 9
        #expect(abs(y.data[i * 6 + j] - expected) < 1e-15, "(\(i), \(j))")
      }
    }
  }

  /// x = (1, -1); h1 = W1 x = (2 - 1, 0 - 1) = (1, -1); h2 = W2 h1 = (1 - 1, -1 + 0) = (0, -1);
  /// z = W3 h2 = 0 - 1 = -1; L = (z - 2)^2 = 9; dL/dz = 2 (z - 2) = -6.
  /// dW3 = dz h2^T = (-6*0, -6*-1) = [[0, 6]]; dh2 = W3^T dz = (-6, -6);
  /// dW2 = dh2 h1^T = [[-6, 6], [-6, 6]]; dh1 = W2^T dh2 = (-6 + 6, -6 + 0) = (0, -6);
  /// dW1 = dh1 x^T = [[0, 0], [-6, 6]]; dx = W1^T dh1 = (2*0 + 0*-6, 1*0 + 1*-6) = (0, -6).
  @Test func threeLayerMLP() throws {
    let (net, out) = try exercise("run-mlp3", as: Double.self)
    let values = net.forward(Tensor(shape: [2], data: [1, -1]))
    #expect(values[1].data == [1, -1])
    #expect(values[2].data == [0, -1])
    #expect(values[out].data == [-1])
    let (loss, dz) = try Loss.sse.evaluate(values[out], target: Tensor(shape: [], data: [2])).get()
    #expect(loss == 9)
    #expect(dz.data == [-6])
    let g = net.backward(values, outputGradient: dz)
    #expect(g.layers[3]?.weight?.data == [0, 6])
    #expect(g.layers[2]?.weight?.data == [-6, 6, -6, 6])
    #expect(g.layers[1]?.weight?.data == [0, 0, -6, 6])
    #expect(g.input.data == [0, -6])
  }

  /// x = (1, 0, 2, -1, 3), w = (1, -1, 2), b = -1 (cross-correlation, as PyTorch):
  /// conv = (1 - 0 + 4 - 1, 0 - 2 - 2 - 1, 2 + 1 + 6 - 1) = (4, -5, 8); relu = (4, 0, 8);
  /// max-pool 2 stride 1 = (max(4, 0), max(0, 8)) = (4, 8); y = 0.5*4 - 0.25*8 + 0.5 = 0.5;
  /// L = 1/2 (0.5 - 1)^2 = 0.125; dy = -0.5.
  /// dWfc = dy (4, 8) = (-2, -4); dbfc = -0.5; dpool = Wfc^T dy = (-0.25, 0.125);
  /// the pool routes them to conv positions 0 and 2: dconv = (-0.25, 0, 0.125) (relu kills 1);
  /// dw[k] = sum_o dconv[o] x[o+k] = (-0.25*1 + 0.125*2, -0.25*0 + 0.125*-1, -0.25*2 + 0.125*3)
  ///       = (0, -0.125, -0.125); db = -0.125;
  /// dx[i] = sum_o dconv[o] w[i-o] = (-0.25, 0.25, -0.5 + 0.125, -0.125, 0.25).
  @Test func conv1dReluPoolFC() throws {
    let (net, out) = try exercise("run-conv1d", as: Double.self)
    let values = net.forward(Tensor(shape: [5, 1], data: [1, 0, 2, -1, 3]))
    #expect(values[1].data == [4, -5, 8])
    #expect(values[2].data == [4, 0, 8])
    #expect(values[3].data == [4, 8])
    #expect(values[out].data == [0.5])
    let (loss, dy) = try Loss.halfSSE.evaluate(values[out], target: Tensor(shape: [], data: [1])).get()
    #expect(loss == 0.125)
    let g = net.backward(values, outputGradient: dy)
    #expect(g.layers[5]?.weight?.data == [-2, -4])
    #expect(g.layers[5]?.bias?.data == [-0.5])
    #expect(g.layers[1]?.weight?.data == [0, -0.125, -0.125])
    #expect(g.layers[1]?.bias?.data == [-0.125])
    #expect(g.input.data == [-0.25, 0.25, -0.375, -0.125, 0.25])
  }
}
