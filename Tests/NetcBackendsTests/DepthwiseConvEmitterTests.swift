import NetcPasses
import Testing

@testable import NetcBackends

/// The depthwise conv's schedule, checked without compiling the source it leads to.
@Suite struct DepthwiseConvEmitterTests {
  /// A depthwise conv over a `size` x `size` x 32 input, `kernel` x `kernel` taps, same padding.
  func plan(size: Int, kernel: Int) -> DepthwiseConvEmitter.TilePlan {
    let pad = kernel / 2
    let g = ConvGeometry(
      inShape: [size, size, 32], outShape: [size, size, 32],
      window: Window(
        kernel: [kernel, kernel], stride: [1, 1], padBegin: [pad, pad], padEnd: [pad, pad], dilation: [1, 1], rounding: .floor),
      inChannels: 32, outChannels: 32, groups: 32)
    return DepthwiseConvEmitter.TilePlan(g)
  }

  /// 3x3 taps with padding 1: 9 regions; only the interior unrolls its taps, and keeps
  /// their 9 weight vectors across its pixel tiles. A corner reads 2x2 taps in a loop.
  @Test func interiorUnrollsAndKeepsItsWeights() throws {
    let p = plan(size: 6, kernel: 3)
    #expect(p.regions.count == 9 && p.pixels == 4)
    #expect(p.regions.filter(\.unrolled).count == 1)
    let interior = try #require(p.regions.first { $0.unrolled })
    #expect(interior.keepsWeights && interior.taps.count == 9)
    let corner = try #require(p.regions.first)
    #expect(!corner.unrolled && !corner.keepsWeights && corner.taps.count == 4)
  }

  /// 5x5 taps: 25 weight vectors would not stay in registers, so the interior loads them
  /// in every tile.
  @Test func manyTapsAreReloaded() throws {
    let interior = try #require(plan(size: 9, kernel: 5).regions.first { $0.unrolled })
    #expect(interior.taps.count == 25 && !interior.keepsWeights)
  }
}
