import Foundation
import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import Testing

/// The reference networks in `specs/` against PyTorch: totals, and layer by layer the
/// output shape, parameters and MACs of every conv and fc (and every BN's shape).
/// Fixtures come from scripts/reference/generate_fixtures.py (torchvision, weights=None).
struct ReferenceNetworkTests {
  struct Fixture: Decodable {
    typealias Layer = ReferenceLayer
    var network: String
    var input: [Int]
    var output: [Int]
    var params: Int
    var buffers: Int
    var macs: Int
    var layers: [Layer]
  }

  static let networks = ["lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v1", "mobilenet_v2"]

  static func load(_ network: String) throws -> (Fixture, Analysis) {
    let data = try Data(contentsOf: URL(fileURLWithPath: repositoryPath("Tests/NetcPassesTests/Fixtures/reference/\(network).json")))
    let fixture = try JSONDecoder().decode(Fixture.self, from: data)
    let spec = try SpecLoader.load(path: repositoryPath("specs/\(network).yaml"))
    return (fixture, try analyze(spec.graph))
  }

  @Test(arguments: networks)
  func totalsMatchPyTorch(network: String) throws {
    let (fixture, analysis) = try Self.load(network)
    #expect(analysis.shapes[0] == fixture.input)
    #expect(analysis.shapes[analysis.graph.outputID] == fixture.output)
    #expect(analysis.costs.total.params == fixture.params)
    #expect(analysis.costs.total.buffers == fixture.buffers)
    #expect(analysis.costs.total.macs == fixture.macs)
  }

  @Test(arguments: networks)
  func weightedLayersMatchPyTorchOneByOne(network: String) throws {
    let (fixture, analysis) = try Self.load(network)
    let ours = analysis.graph.layers.filter { $0.op.isConvolution || $0.op == .fc }
      .filter { !analysis.shapes.nodes[$0.id].elided }
    let theirs = fixture.layers.filter { $0.type.hasPrefix("Conv") || $0.type == "Linear" }
    try #require(ours.count == theirs.count, "\(ours.count) conv/fc layers in the spec, \(theirs.count) in PyTorch")
    for (node, layer) in zip(ours, theirs) {
      #expect(analysis.shapes[node.id] == layer.output, "\(node.name) vs \(layer.module)")
      #expect(analysis.costs.nodes[node.id].params == layer.params, "\(node.name) vs \(layer.module)")
      #expect(analysis.costs.nodes[node.id].macs == layer.macs, "\(node.name) vs \(layer.module)")
    }
  }

  @Test(arguments: networks)
  func normalizationAndPoolingShapesMatchPyTorch(network: String) throws {
    let (fixture, analysis) = try Self.load(network)
    let live = analysis.graph.layers.filter { !analysis.shapes.nodes[$0.id].elided }
    let bn = live.filter { $0.op == .bn }.map { analysis.shapes[$0.id] }
    #expect(bn == fixture.layers.filter { $0.type.hasPrefix("BatchNorm") }.map(\.output))
    // torchvision's MobileNet v2 pools with a function call, not a module: no entry to match.
    if network != "mobilenet_v2" {
      let pools = live.filter { [.maxpool, .avgpool, .gap, .gmp].contains($0.op) }.map { analysis.shapes[$0.id] }
      #expect(pools == fixture.layers.filter { $0.type.contains("Pool") }.map(\.output))
    }
  }

  /// Published totals the fixtures must agree with, so a wrong generator cannot pass:
  /// torchvision's model docs list 25,557,032 params for ResNet-50, 138,357,544 for VGG-16,
  /// 3,504,872 for MobileNet v2, 11,689,512 for ResNet-18 and 61,100,840 for AlexNet.
  @Test(arguments: [
    ("resnet50", 25_557_032), ("vgg16", 138_357_544), ("mobilenet_v2", 3_504_872),
    ("resnet18", 11_689_512), ("alexnet", 61_100_840),
  ])
  func publishedParameterCounts(network: String, params: Int) throws {
    let (fixture, analysis) = try Self.load(network)
    #expect(fixture.params == params)
    #expect(analysis.costs.total.params == params)
  }
}
