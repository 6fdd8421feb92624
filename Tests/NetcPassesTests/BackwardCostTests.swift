import Foundation
import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import Testing

/// Backward MACs against arithmetic: a conv or linear layer costs its forward MACs for the
/// input's gradient and again for the weights', and the first layer computes no input gradient.
struct BackwardCostTests {
  /// conv1 3·3·3·32·32·32 = 884,736; conv2 3·3·32·64·16·16 = 4,718,592; fc 4096·10 = 40,960.
  @Test func smallCNN() throws {
    let a = try analyzeSpec(
      specText(
        input: "32x32x3",
        layers: ["CONV3-32 pad 1", "BN", "RELU", "POOL2", "CONV3-64 pad 1", "BN", "RELU", "POOL2", "FLATTEN", "FC-10"]))
    let b = try #require(backwardCost(a.graph, a.shapes, a.costs, batch: 1))
    #expect(b.totalInput == 4_718_592 + 40_960)
    #expect(b.totalWeights == 884_736 + 4_718_592 + 40_960)
    #expect(b.step == 3 * (884_736 + 4_718_592 + 40_960) - 884_736)
  }

  /// Attention on 4x8 with 2 heads of 4: projections 4·(8·8)·4 = 1,024 MACs each way;
  /// QKᵀ and AV 2·2·4·4·4 = 256 forward, both factors' gradients 512.
  @Test func attention() throws {
    let a = try analyzeSpec(specText(input: "4x8", layers: ["LINEAR-8", "ATTN-2"]))
    let b = try #require(backwardCost(a.graph, a.shapes, a.costs, batch: 1))
    let attn = 2
    #expect(a.costs.nodes[attn].macs == 1_024 + 256)
    #expect(b.weights[attn] == 1_024)
    #expect(b.input[attn] == 1_024 + 512)
    #expect(b.input[1] == 0)
  }

  /// A mixture of 4 experts, 2 per token, on 4x8: the router costs 4·(8·4) = 128 MACs, one
  /// expert's LINEAR-8 4·(8·8) = 256, so the routed experts 512 (all four: 1,024). Both read
  /// the input: no input gradient; the weights' gradients cost 128 + 512.
  @Test func mixtureCountsTheRoutedExperts() throws {
    let a = try analyzeSpec(specText(input: "4x8", layers: ["{moe: {experts: 4, top: 2, layers: [LINEAR-8]}}"]))
    #expect(a.costs.total.macs == 128 + 1_024)
    let b = try #require(backwardCost(a.graph, a.shapes, a.costs, batch: 1))
    #expect(b.totalInput == 0)
    #expect(b.totalWeights == 128 + 512)
    #expect(b.step == 2 * (128 + 512))
  }

  /// A training step's MACs against FlopCounterMode (FLOPs / 2) on a forward and backward
  /// pass in PyTorch (scripts/reference/saved_tensors.py). MobileNet v2 is checked below:
  /// FlopCounterMode miscounts its grouped convs.
  @Test(arguments: ["resnet18", "gpt2", "bert_base"])
  func stepMatchesFlopCounterMode(network: String) throws {
    struct Fixture: Decodable {
      struct Network: Decodable {
        var T: Int?
        var macs_batch: Int?
        var step_macs: Int?
      }
      var networks: [String: Network]
    }
    let data = try Data(contentsOf: URL(fileURLWithPath: repositoryPath("Tests/NetcPassesTests/Fixtures/saved_tensors.json")))
    let n = try #require(try JSONDecoder().decode(Fixture.self, from: data).networks[network])
    let batch = try #require(n.macs_batch)
    let spec = try SpecLoader.load(path: repositoryPath("specs/\(network).yaml"))
    let a = try analyze(spec.graph, bindings: n.T.map { ["T": $0] } ?? [:], batch: batch)
    #expect(backwardCost(a.graph, a.shapes, a.costs, batch: batch)?.step == n.step_macs)
  }

  /// scripts/reference/grouped_conv_flops.py: FlopCounterMode's `convolution_backward`
  /// formula never reads `groups`, so it counts a grouped conv's weight gradient as a dense
  /// conv's. A lone depthwise 3x3 conv (32 channels, 56x56) costs 3·3·32·56·56 = 903,168 MACs
  /// forward and, by FlopCounterMode, the same for the input gradient but 32 times that for
  /// the weights'; dense (groups 1) all three agree. With the weight term divided by groups,
  /// MobileNet v2's step at batch 2 is 1,782,969,600 MACs (FlopCounterMode as shipped:
  /// 12,279,700,992, the 6.9 times), and netc, counting each gradient at the forward's MACs,
  /// gives exactly that.
  @Test func groupedConvsAgainstFlopCounterModeWithItsGroupsCorrected() throws {
    struct Fixture: Decodable {
      struct Parts: Decodable {
        var forward: Int
        var input_gradient: Int
        var weight_gradient: Int
      }
      struct Lone: Decodable {
        var groups_1: Parts
        var groups_32: Parts
      }
      struct Step: Decodable {
        var flop_counter: Int
        var corrected: Int
      }
      var lone_conv_3x3_32ch_56x56: Lone
      var mobilenet_v2_batch_2_step_macs: Step
    }
    let data = try Data(contentsOf: URL(fileURLWithPath: repositoryPath("Tests/NetcPassesTests/Fixtures/grouped_conv_flops.json")))
    let f = try JSONDecoder().decode(Fixture.self, from: data)
    let depthwise = f.lone_conv_3x3_32ch_56x56.groups_32, dense = f.lone_conv_3x3_32ch_56x56.groups_1
    #expect(depthwise.forward == 3 * 3 * 32 * 56 * 56)
    #expect(depthwise.input_gradient == depthwise.forward)
    #expect(depthwise.weight_gradient == 32 * depthwise.forward)
    #expect(dense.weight_gradient == dense.forward && dense.input_gradient == dense.forward)
    // netc on the same conv behind a learnable layer, whose weights need its input gradient.
    let a = try analyzeSpec(specText(input: "56x56x32", layers: ["CONV1-32", "CONV3-32 pad 1 groups 32 bias false"]))
    let b = try #require(backwardCost(a.graph, a.shapes, a.costs, batch: 1))
    #expect(a.costs.nodes[2].macs == depthwise.forward)
    #expect(b.input[2] == depthwise.input_gradient)
    #expect(b.weights[2] == depthwise.forward)
    let step = f.mobilenet_v2_batch_2_step_macs
    let spec = try SpecLoader.load(path: repositoryPath("specs/mobilenet_v2.yaml"))
    let m = try analyze(spec.graph, batch: 2)
    #expect(backwardCost(m.graph, m.shapes, m.costs, batch: 2)?.step == step.corrected)
    #expect(step.flop_counter > 6 * step.corrected)
  }
}
