import Foundation
import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import Testing

/// `shortcut: auto` is resolved once, in `analyze`: what every figure and backend reads has
/// no projection left to decide, only identities and plain 1x1 convs with their BNs.
struct ShortcutResolutionTests {
  /// ResNet-18 writes `shortcut: auto` on all 8 blocks. Layers 2-4 open with a block
  /// that halves the extents and doubles the channels: a 1x1 stride-2 conv and its BN (3
  /// projections). The other 5 blocks keep their shape: conv and BN become identities,
  /// 5 x 2 = 10.
  @Test func resnet18ResolvesToIdentitiesAndPlainProjections() throws {
    let a = try analyze(SpecLoader.load(path: repositoryPath("specs/resnet18.yaml")).graph)
    #expect(shortcutsResolved(a.graph))
    #expect(!a.shapes.nodes.contains { $0.elided })
    let identities = a.graph.nodes.filter(\.attributes.elidedShortcut)
    #expect(identities.count == 10)
    #expect(identities.allSatisfy { $0.op == .identity })
    let projections = a.graph.nodes.filter { $0.name.contains("shortcut") && $0.op == .conv }
    #expect(projections.count == 3)
    for conv in projections {
      #expect(conv.attributes.kernel.map(\.expr) == [.constant(1), .constant(1)])
      #expect(conv.attributes.stride.map(\.expr) == [.constant(2), .constant(2)])
      #expect(conv.attributes.bias == false)
    }
  }
}
