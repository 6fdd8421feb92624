import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import Testing

/// The exercise specs in `specs/`, against answers worked out by hand; each formula is
/// written next to its number.
struct ExerciseTests {
  func load(_ name: String) throws -> Analysis {
    try analyze(SpecLoader.load(path: repositoryPath("specs/\(name).yaml")).graph)
  }

  @Test func smallCNN() throws {
    let a = try load("small-cnn")
    // conv1: 3x3x3x10 + 10 = 280 params; out 32x32x10; MACs 27*10*32*32 = 276,480.
    #expect(a.node("conv1")?.cost.params == 280)
    #expect(a.node("conv1")?.cost.macs == 276_480)
    // pool1: 16x16x10. conv2: floor((16 + 2*2 - 3)/3) + 1 = 6 -> 6x6x20;
    // params 3*3*10*20 + 20 = 1,820; MACs 90*20*36 = 64,800.
    #expect(a.node("conv2")?.shape == [6, 6, 20])
    #expect(a.node("conv2")?.cost.params == 1_820)
    #expect(a.node("conv2")?.cost.macs == 64_800)
    // pool2: 3x3x20 -> flatten 180 -> fc 180*10 + 10 = 1,810 params, 1,800 MACs.
    #expect(a.node("fc1")?.cost.params == 1_810)
    // Totals as the language page states them: 3,910 params, 343,080 MACs,
    // 24,850 activations (10240 + 10240 + 2560 + 720 + 720 + 180 + 180 + 10).
    #expect(a.costs.total == Cost(params: 3_910, buffers: 0, macs: 343_080, activations: 24_850))
  }

  @Test func convAgainstDepthwiseSeparable() throws {
    let conv = try load("conv3x3-30x30x20")
    let sep = try load("sepconv3x3-30x30x20")
    // 30x30x20 -> 15x15x40: floor((30 + 2 - 3)/2) + 1 = 15.
    #expect(conv.shapes[1] == [15, 15, 40])
    #expect(sep.shapes[sep.graph.outputID] == [15, 15, 40])
    // Standard: 3*3*20*40 = 7,200 weights; MACs 7,200 * 15*15 = 1,620,000.
    #expect(conv.costs.total.params == 7_200)
    #expect(conv.costs.total.macs == 1_620_000)
    // Separable: depthwise 3*3*20 = 180, pointwise 20*40 = 800: 980 weights;
    // MACs (180 + 800) * 15*15 = 220,500.
    #expect(sep.costs.total.params == 980)
    #expect(sep.costs.total.macs == 220_500)
    #expect(sep.layerNames == ["sepconv1.dw", "sepconv1.pw"])
  }

  @Test func nineByNineOn205() throws {
    let a = try load("conv9-205")
    // floor((205 - 9)/3) + 1 = 66; params 9*9*10*96 + 96 = 77,856;
    // MACs 9*9*10*96 * 66*66 = 77,760 * 4,356 = 338,722,560.
    #expect(a.shapes[1] == [66, 66, 96])
    #expect(a.costs.total.params == 77_856)
    #expect(a.costs.total.macs == 338_722_560)
  }

  @Test func mlp() throws {
    let a = try load("mlp-mnist")
    // 784*128 + 128 = 100,480 and 128*10 + 10 = 1,290: 101,770 params;
    // MACs 784*128 + 128*10 = 101,632.
    #expect(a.costs.total.params == 101_770)
    #expect(a.costs.total.macs == 101_632)
    #expect(a.shapes[a.graph.outputID] == [10])
  }

  @Test func oneDimensionalConvs() throws {
    let a = try load("conv1d-sequence")
    // conv1: floor((100 + 4 - 5)/2) + 1 = 50; params 5*16*32 + 32 = 2,592; MACs 2,560*50.
    #expect(a.node("conv1")?.shape == [50, 32])
    #expect(a.node("conv1")?.cost.macs == 5 * 16 * 32 * 50)
    // conv2: dilation 2, same: out 50; params 3*32*64 + 64 = 6,208.
    #expect(a.node("conv2")?.shape == [50, 64])
    #expect(a.node("conv2")?.cost.params == 6_208)
    #expect(a.node("gap1")?.shape == [1, 64])
    // fc: 64*4 + 4 = 260; total 2,592 + 6,208 + 260 = 9,060.
    #expect(a.costs.total.params == 9_060)
  }

  @Test func inceptionModule() throws {
    let a = try load("inception-block")
    // 64 + 128 + 32 + 32 = 256 channels at 28x28 (Szegedy et al. 2014, Table 1).
    #expect(a.shapes[a.graph.outputID] == [28, 28, 256])
    // Weights 192*64 + 192*96 + 96*9*128 + 192*16 + 16*25*32 + 192*32 = 163,328,
    // biases 64 + 96 + 128 + 16 + 32 + 32 = 368.
    #expect(a.costs.total.params == 163_328 + 368)
    // MACs = weights * 28*28, every conv keeping 28x28.
    #expect(a.costs.total.macs == 163_328 * 784)
    #expect(a.graph.nodes.last?.name == "inception3a.concat")
    #expect(a.node("inception3a.branch2.conv2")?.shape == [28, 28, 128])
  }
}
