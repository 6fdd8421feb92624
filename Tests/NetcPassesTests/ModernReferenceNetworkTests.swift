import Foundation
import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import Testing

/// The transformers and modern CNNs of `specs/` against PyTorch, torchvision and Hugging
/// Face transformers: totals, closed forms in the sequence length, and layer by layer the
/// output shape, parameters and MACs. Fixtures come from
/// scripts/reference/generate_modern_fixtures.py (random or meta-device weights).
struct ModernReferenceNetworkTests {
  struct Fixture: Decodable {
    typealias Layer = ReferenceLayer
    var network: String
    var input: [Int]
    var output: [Int]
    var params: Int
    var buffers: Int
    var macs: Int
    var macs_by_T: [String: Int]?
    var active_params: Int?
    var layers_cover: String?
    var layers: [Layer]
  }

  static let tokenModels = ["gpt2", "bert_base", "llama3_8b", "mixtral_8x7b"]
  static let networks = tokenModels + ["vit_b_16", "convnext_tiny", "efficientnet_b0", "mobilenet_v3_large", "unet"]

  static func fixture(_ network: String) throws -> Fixture {
    let data = try Data(contentsOf: URL(fileURLWithPath: repositoryPath("Tests/NetcPassesTests/Fixtures/reference/\(network).json")))
    return try JSONDecoder().decode(Fixture.self, from: data)
  }

  static func spec(_ network: String) throws -> Spec { try SpecLoader.load(path: repositoryPath("specs/\(network).yaml")) }

  /// The analysis at the fixture's sequence length (token models bind `T`).
  static func load(_ network: String) throws -> (Fixture, Analysis) {
    let f = try fixture(network)
    let bindings = tokenModels.contains(network) ? ["T": f.input[0]] : [:]
    return (f, try analyze(try spec(network).graph, bindings: bindings))
  }

  @Test(arguments: networks)
  func totalsMatchPyTorch(network: String) throws {
    let (f, a) = try Self.load(network)
    #expect(a.shapes[a.graph.outputID] == f.output)
    #expect(a.costs.total.params == f.params)
    #expect(a.costs.total.buffers == f.buffers)
    // The fixtures count what runs: a mixture's routed experts.
    #expect(a.costs.total.activeMacs == f.macs)
    #expect(a.costs.total.activeParams == f.active_params ?? f.params)
  }

  /// The published figures the fixtures must agree with, so that a wrong generator cannot
  /// pass: anchors in ../shared/frontier-anchors.md and torchvision's model docs.
  @Test(
    arguments: [
      ("gpt2", 124_439_808, 145_824_153_600), ("bert_base", 109_482_240, 11_174_215_680),
      ("vit_b_16", 86_567_656, 17_563_828_224), ("llama3_8b", 8_030_261_248, nil), ("mixtral_8x7b", 46_702_792_704, nil),
      ("convnext_tiny", 28_589_128, nil), ("efficientnet_b0", 5_288_548, nil), ("mobilenet_v3_large", 5_483_032, nil),
    ] as [(String, Int, Int?)])
  func fixturesAgreeWithPublishedFigures(network: String, params: Int, macs: Int?) throws {
    let f = try Self.fixture(network)
    #expect(f.params == params)
    if let macs { #expect(f.macs == macs) }
    if network == "mixtral_8x7b" { #expect(f.active_params == 12_879_925_248) }
    if network == "efficientnet_b0" { #expect(f.buffers == 42_016) }
    if network == "mobilenet_v3_large" { #expect(f.buffers == 24_400) }
  }

  /// MACs as a closed form in T, evaluated at every length PyTorch was run at.
  @Test(arguments: tokenModels)
  func closedFormInTMatchesPyTorchAtEveryLength(network: String) throws {
    let f = try Self.fixture(network)
    let spec = try Self.spec(network)
    let symbolic = try analyzeSymbolic(spec.graph, bindings: [:], free: ["T"])
    let macs = try #require(symbolic.totals.activeMacs)
    #expect(macs.variables == ["T"])
    for (t, expected) in try #require(f.macs_by_T) {
      #expect(try macs.evaluate(["T": Int(t)!]) == expected, "T = \(t)")
    }
  }

  /// GPT-2's closed form as the anchors write it: 123,532,032·T + 18,432·T², where
  /// 123,532,032 = 12·(4·768² + 2·768·3072) + 768·50257 (projections, MLP, LM head) and
  /// 18,432 = 12 layers · 2 products · 768.
  @Test func gpt2ClosedForm() throws {
    let symbolic = try analyzeSymbolic(try Self.spec("gpt2").graph, bindings: [:], free: ["T"])
    let macs = try #require(symbolic.totals.macs)
    let linear: Int = 12 * (4 * 768 * 768 + 2 * 768 * 3072) + 768 * 50257
    #expect(linear == 123_532_032)
    for t in [1, 7, 1024] {
      let expected: Int = 123_532_032 * t + 18_432 * t * t
      #expect(try macs.evaluate(["T": t]) == expected)
    }
  }

  /// The netc layers that have a counterpart among the fixture's entries, by type.
  static func counterpart(_ type: String) -> [OpKind] {
    switch type {
    case "Embedding": [.embed, .posembed, .typeembed]
    case "PositionEmbedding": [.posembed]
    case "ClassToken": [.clstoken]
    case "LayerNorm": [.layernorm]
    case "RMSNorm": [.rmsnorm]
    case "Attention": [.attention]
    case "Linear": [.linear, .fc]
    case "Conv2d": [.conv, .dwconv, .pwconv]
    case "ConvTranspose2d": [.deconv]
    case "BatchNorm2d": [.bn]
    case "LayerScale": [.layerscale]
    case "MoE": [.moe]
    default: []
    }
  }

  @Test(arguments: networks)
  func layersMatchPyTorchOneByOne(network: String) throws {
    let (f, a) = try Self.load(network)
    let types = Set(f.layers.map(\.type)).subtracting(["Pool"])
    let kinds = Set(types.flatMap(Self.counterpart))
    #expect(types.allSatisfy { !Self.counterpart($0).isEmpty }, "unmapped types in \(types)")
    // Inside a mixture only its output stands for the whole block (the fixture's MoE entry).
    let moe = a.graph.groups.filter { $0.kind == .moe }
    func inMixture(_ id: Int) -> Bool { moe.contains { $0.nodes.contains(id) && $0.nodes.upperBound != id } }
    var ours = a.graph.layers.filter { kinds.contains($0.op) && !a.shapes.nodes[$0.id].elided && !inMixture($0.id) }
    // BERT sums its embeddings in the order word, token type, position; netc adds positions
    // second. The sum is the same; compare the entries in netc's order.
    var theirs = f.layers.filter { $0.type != "Pool" }
    if network == "bert_base" { theirs.swapAt(1, 2) }
    if f.layers_cover != nil {
      // The fixture keeps the embedding, the first decoder layer, the final norm and the head.
      let head = theirs.count - 2
      ours = Array(ours.prefix(head)) + Array(ours.suffix(2))
    }
    try #require(ours.count == theirs.count, "\(ours.count) layers in the spec, \(theirs.count) in PyTorch")
    for (node, layer) in zip(ours, theirs) {
      var cost = a.costs.nodes[node.id]
      if node.op == .moe, let g = moe.first(where: { $0.nodes.upperBound == node.id }) {
        cost = g.nodes.reduce(Cost()) { $0.adding(a.costs.nodes[$1])! }
      }
      let what = "\(node.name) vs \(layer.module)"
      #expect(a.shapes[node.id] == layer.output, "\(what)")
      #expect(cost.params == layer.params, "\(what)")
      #expect(cost.activeMacs == layer.macs, "\(what)")
      if let active = layer.active_params { #expect(cost.activeParams == active, "\(what)") }
    }
  }
}
