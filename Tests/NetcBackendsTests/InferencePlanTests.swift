import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import Testing

@testable import NetcBackends

/// The fused output-only pass (`Interpreter.output`) against the unfused `forward`, and the
/// depthwise kernel against the reference loop and a naive convolution written here.
@Suite struct InferencePlanTests {
  /// A spec's interpreter with seeded weights and non-trivial BN parameters.
  static func interpreter<T: TensorScalar>(_ text: String, as: T.Type, threads: Int = 2) throws -> Interpreter<T> {
    let spec = try SpecLoader.parse(SourceFile(path: "plan.yaml", text: "name: plan\n" + text))
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    var params: [LayerParameters<T>?] = try WeightBinding.bind(analysis.graph, shapes, sources: [], seed: 3)
    var rng = SplitMix64(seed: 11)
    for i in params.indices where params[i]?.gamma != nil {
      for kind in [ParameterKind.gamma, .beta, .mean, .variance] {
        let n = params[i]![kind]!.count
        let range: (Double, Double) = kind == .variance || kind == .gamma ? (0.5, 1.5) : (-0.5, 0.5)
        params[i]![kind] = Tensor(shape: [n], data: (0..<n).map { _ in T(rng.uniform(range.0, range.1)) })
      }
    }
    return Interpreter(graph: analysis.graph, shapes: shapes, parameters: params, threads: threads)
  }

  static func input<T: TensorScalar>(_ shape: [Int], as: T.Type) -> Tensor<T> {
    var rng = SplitMix64(seed: 5)
    return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in T(rng.uniform(-1, 1)) })
  }

  /// The largest difference relative to the largest magnitude of `expected`.
  static func relativeError<T: TensorScalar>(_ actual: Tensor<T>, _ expected: Tensor<T>) -> Double {
    let scale = max(expected.data.map { abs(Double($0)) }.max() ?? 0, 1e-30)
    return zip(actual.data, expected.data).map { abs(Double($0) - Double($1)) / scale }.max() ?? 0
  }

  /// Specs and the steps their fused plan has (counted by hand from the layer lists).
  static let fusedSpecs: [(text: String, steps: Int)] = [
    // conv+BN+RELU6, dwconv+BN+RELU, pwconv+BN: 3 steps.
    ("input: 9x7x5\nlayers: [CONV3-6 pad 1, BN, RELU6, DWCONV3 pad 1 stride 2, BN, RELU, PWCONV-6 bias false, BN]", 3),
    // MobileNet v2's inverted residual: pw+BN+RELU6, dw+BN+RELU6, pw+BN+ADD, then RELU on
    // its own (the ADD's value has one reader, but the ADD is already a conv's residual).
    ("input: 6x5x8\nlayers:\n  - residual:\n      body: [PWCONV-16, BN, RELU6, DWCONV3 pad 1, BN, RELU6, PWCONV-8, BN]\n  - RELU\n", 3),
    // ResNet's bottleneck with a projection shortcut: 3 body convs, the shortcut conv with
    // BN + ADD + RELU fused into it: 4 steps.
    (
      "input: 7x7x6\nlayers:\n  - residual:\n      body: [CONV1-4, BN, RELU, CONV3-4 stride 2 pad 1, BN, RELU, CONV1-16, BN]\n      shortcut: auto\n  - RELU\n",
      4
    ),
    // The same block whose `auto` shortcut is elided (shapes match): the body's last conv
    // takes BN + ADD (of the block input) + RELU, the elided shortcut no step: 3 steps.
    (
      "input: 7x7x16\nlayers:\n  - residual:\n      body: [CONV1-4, BN, RELU, CONV3-4 pad 1, BN, RELU, CONV1-16, BN]\n      shortcut: auto\n  - RELU\n",
      3
    ),
    // Grouped conv + BN (folded; the BN's value is read twice, so nothing more fuses),
    // RELU6 on its own, conv+BN+ADD, TANH: 4 steps; 1-D input.
    ("input: 10x4\nlayers:\n  - CONV3-4 groups 2 pad 1\n  - BN\n  - residual:\n      body: [RELU6, CONV3-4 pad 1, BN]\n  - TANH\n", 4),
    // A conv, then a block whose second conv takes BN + ADD of the first conv's value,
    // which nothing reads afterwards: 3 steps. With K = 3 x 3 x 40 = 360 (one GEMM K block)
    // the output is written over the residual in place; with 3 x 3 x 80 = 720 (two K
    // blocks, the first one's sums kept in the output) it must not be.
    ("input: 6x6x3\nlayers:\n  - CONV3-40 pad 1\n  - residual:\n      body: [CONV3-40 pad 1, BN, RELU, CONV3-40 pad 1, BN]\n", 3),
    ("input: 6x6x3\nlayers:\n  - CONV3-80 pad 1\n  - residual:\n      body: [CONV3-80 pad 1, BN, RELU, CONV3-80 pad 1, BN]\n", 3),
  ]

  @Test(arguments: 0..<7)
  func fusedOutputEqualsUnfoldedForward(_ index: Int) throws {
    let (text, steps) = Self.fusedSpecs[index]
    let f64 = try Self.interpreter(text, as: Double.self)
    #expect(f64.plan.steps.count == steps)
    let x64 = Self.input(f64.shapes[0], as: Double.self)
    #expect(Self.relativeError(f64.output(x64), f64.forward(x64)[f64.graph.outputID]) <= 1e-12)
    let f32 = try Self.interpreter(text, as: Float.self)
    let x32 = Self.input(f32.shapes[0], as: Float.self)
    #expect(Self.relativeError(f32.output(x32), f32.forward(x32)[f32.graph.outputID]) <= 1e-5)
    // A second call reuses the workspace's buffers and gives the same output.
    #expect(f32.output(x32) == f32.output(x32))
  }

  /// An expert's convs are packed per expert, not in the plan: the RELU after one is a
  /// step of its own (folding it into an unpacked conv left the mixture reading a value no
  /// step wrote, an index out of range). Steps: the router, conv, RELU and the routed sum.
  @Test func nothingFusesIntoAnExpertsConv() throws {
    let text = "input: 4x4x2\nlayers:\n  - moe: {experts: 2, top: 1, layers: [CONV3-2 pad 1, RELU]}\n"
    let f = try Self.interpreter(text, as: Double.self)
    #expect(f.plan.steps.count == 4)
    #expect(f.plan.steps.allSatisfy { $0.fused.isEmpty && $0.conv == nil })
  }

  /// `output` reads the caller's input in place: after two passes the input is unchanged
  /// and the two outputs are equal. The output of a spec whose last layer is the identity
  /// of the input is a copy, not the input's storage.
  @Test func theInputIsReadInPlaceAndLeftAlone() throws {
    let i = try Self.interpreter(
      "input: 9x9x4\nlayers:\n  - CONV3-8 pad 1\n  - BN\n  - RELU\n  - residual:\n      body: [CONV3-8 pad 1, BN]\n", as: Float.self)
    let x = Self.input([9, 9, 4], as: Float.self), copy = x.data
    let first = i.output(x), second = i.output(x)
    #expect(x.data == copy)
    #expect(first.data == second.data)
    let identity = try Self.interpreter("input: 3x3x2\nlayers:\n  - DROPOUT\n", as: Float.self)
    let y = Self.input([3, 3, 2], as: Float.self)
    #expect(identity.output(y).data == y.data)
  }

  /// Layers large enough to be split over the worker pool (above `parallelThreshold`):
  /// conv tiles, max pool positions, depthwise rows, a pointwise GEMM, convs with fewer
  /// positions than channels (split by columns, im2col and direct), the FC's rows.
  @Test func twoThreadsAgreeWithOne() throws {
    let text =
      "input: 24x24x16\nlayers: [CONV3-32 pad 1, BN, RELU, POOL3 stride 1 pad 1, DWCONV3 pad 1 stride 2, BN, RELU6, PWCONV-48, BN, CONV3-96 stride 2 pad 1, BN, RELU, PWCONV-128, FLATTEN, FC-40]"
    let one = try Self.interpreter(text, as: Double.self, threads: 1)
    let two = try Self.interpreter(text, as: Double.self, threads: 2)
    let x = Self.input(one.shapes[0], as: Double.self)
    let reference = one.forward(x)
    for _ in 0..<3 {
      let values = two.forward(x)
      for id in values.indices { #expect(Self.relativeError(values[id], reference[id]) <= 1e-12, "node \(id)") }
      #expect(Self.relativeError(two.output(x), reference[one.graph.outputID]) <= 1e-12)
    }
  }

  /// The fp32 GEMM split by columns (fewer than 64 positions a worker: im2col built by both
  /// workers, and direct) gives exactly the single thread's values: each sum is taken in the
  /// same order whichever worker computes it.
  @Test func twoThreadsSplitByColumnsAgreeWithOneExactly() throws {
    let text =
      "input: 10x10x8\nlayers: [CONV3-160 pad 1, BN, RELU, PWCONV-200, BN, CONV3-130 stride 2 pad 1, FLATTEN, FC-10]"
    let one = try Self.interpreter(text, as: Float.self, threads: 1)
    let two = try Self.interpreter(text, as: Float.self, threads: 2)
    let x = Self.input(one.shapes[0], as: Float.self)
    let reference = one.forward(x)
    for _ in 0..<3 {
      let values = two.forward(x)
      for id in values.indices { #expect(values[id] == reference[id], "node \(id)") }
      #expect(two.output(x) == one.output(x))
    }
  }

  /// Convs that take the direct kernel (`Kernels.directConvApplies`: 3 channels; 8 channels
  /// in rows of 50, with padding, stride and a fused residual) agree in fp32, on one and two
  /// threads, with fp64, whose loops are the generic ones.
  @Test func directConvsMatchTheGenericLoops() throws {
    let text =
      "input: 9x100x3\nlayers:\n  - CONV3-8 pad 1 stride 1,2\n  - RELU\n  - residual:\n      body: [CONV3-8 pad 1, BN]\n  - CONV5-40 pad 2\n"
    let f64 = try Self.interpreter(text, as: Double.self, threads: 1)
    let reference = f64.output(Self.input(f64.shapes[0], as: Double.self))
    for threads in [1, 2] {
      let f32 = try Self.interpreter(text, as: Float.self, threads: threads)
      let y = f32.output(Self.input(f32.shapes[0], as: Float.self))
      let error = zip(y.data, reference.data).map { abs(Double($0) - $1) }.max()!
      let scale = reference.data.map { abs($0) }.max()!
      #expect(error <= 1e-5 * scale, "\(threads) threads: \(error) of \(scale)")
    }
  }

  /// Depthwise geometries: odd extents, channel counts hitting the 16-, 8- and 1-lane
  /// paths, strides, padding, dilation, kernels 2, 3 and 5, multiplier 2, 1-D.
  static let depthwiseSpecs = [
    "input: 11x9x23\nlayers: [DWCONV3 pad 1]",
    "input: 11x9x37\nlayers: [DWCONV3 stride 2 pad 2 dilation 2]",
    "input: 8x13x16\nlayers: [DWCONV5 stride 3 pad 1]",
    "input: 7x6x8\nlayers: [DWCONV2 stride 2]",
    "input: 5x5x1\nlayers: [DWCONV3 pad 2 dilation 2]",
    "input: 9x7x7\nlayers: [DWCONV3-2 pad 1 stride 2]",
    "input: 13x19\nlayers: [DWCONV3 stride 2 pad 1]",
    "input: 6x6x40\nlayers: [DWCONV3 pad 1 bias false]",
  ]

  @Test(arguments: 0..<8)
  func depthwiseMatchesReferenceLoops(_ index: Int) throws {
    for threads in [1, 2] {
      let net = try Self.interpreter(Self.depthwiseSpecs[index], as: Double.self, threads: threads)
      let node = net.graph.nodes[1], g = net.geometry[1]!, p = net.parameters[1]!
      let x = Self.input(net.shapes[0], as: Double.self)
      let y = net.forward(x)[1]
      // The reference loop of Kernels (taps in the same order): bit-identical.
      var reference = [Double](repeating: 0, count: y.count)
      x.data.withUnsafeBufferPointer { xb in
        net.packed[1]!.depthwise.withUnsafeBufferPointer { wb in
          reference.withUnsafeMutableBufferPointer { rb in
            Kernels.depthwiseForward(xb.baseAddress!, g, wb.baseAddress!, into: rb.baseAddress!, threads: 1)
          }
        }
      }
      if let b = p.bias?.data { for i in reference.indices { reference[i] += b[i % b.count] } }
      #expect(y.data == reference, "\(node.name): depthwise kernel vs reference loop")
      // A naive convolution from PyTorch's weight layout [C*m][1][kh][kw].
      #expect(Self.relativeError(y, Self.naiveDepthwise(x, p, g)) <= 1e-12)
    }
  }

  /// out[oh][ow][co] = bias[co] + sum over (i, j) inside the input of x[ih][iw][co / m] * w[co][i][j].
  static func naiveDepthwise(_ x: Tensor<Double>, _ p: LayerParameters<Double>, _ g: ConvGeometry) -> Tensor<Double> {
    let (H, W, C) = (g.input[1], g.input[2], g.inChannels)
    let (OH, OW, CO) = (g.output[1], g.output[2], g.outChannels)
    let (kh, kw) = (g.kernel[1], g.kernel[2]), m = CO / C
    var y = [Double](repeating: 0, count: OH * OW * CO)
    for oh in 0..<OH {
      for ow in 0..<OW {
        for co in 0..<CO {
          var s = p.bias?.data[co] ?? 0
          for i in 0..<kh {
            for j in 0..<kw {
              let ih = oh * g.stride[1] - g.padBegin[1] + i * g.dilation[1]
              let iw = ow * g.stride[2] - g.padBegin[2] + j * g.dilation[2]
              guard ih >= 0 && ih < H && iw >= 0 && iw < W else { continue }
              s += x.data[(ih * W + iw) * C + co / m] * p.weight!.data[(co * kh + i) * kw + j]
            }
          }
          y[(oh * OW + ow) * CO + co] = s
        }
      }
    }
    return Tensor(shape: x.shape.count == 3 ? [OH, OW, CO] : [OW, CO], data: y)
  }
}
