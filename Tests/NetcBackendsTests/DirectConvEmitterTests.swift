import NetcPasses
import Testing

@testable import NetcBackends

/// The direct conv's schedule, checked without compiling the source it leads to.
@Suite struct DirectConvEmitterTests {
  /// A square 3x3 conv, `size` x `size` x `channels` to `filters`, padding 1.
  func geometry(size: Int, channels: Int, filters: Int) -> ConvGeometry {
    ConvGeometry(
      inShape: [size, size, channels], outShape: [size, size, filters],
      window: Window(kernel: [3, 3], stride: [1, 1], padBegin: [1, 1], padEnd: [1, 1], dilation: [1, 1], rounding: .floor),
      inChannels: channels, outChannels: filters, groups: 1)
  }

  func plan(size: Int, channels: Int, filters: Int, lanes: Int = 16) -> DirectConvEmitter.TilePlan {
    DirectConvEmitter.TilePlan(geometry(size: size, channels: channels, filters: filters), ConvTile(lanes: lanes))
  }

  /// 7x7, 3x3 taps: the 5x5 interior as 5 rows is 5 tiles; as one flat run of 25 pixels
  /// in tiles of up to 8 it is 4 tiles of 7 (the last one overlapping), fewer by more than
  /// a tenth, so it is tiled flat.
  @Test func smallInteriorIsTiledFlat() throws {
    let p = plan(size: 7, channels: 64, filters: 64)
    #expect(p.blocks.count == 1)
    let block = try #require(p.blocks.first)
    #expect(block.index == "cb" && block.vectors == 2)
    let interior = try #require(block.regions.first { $0.region.axes[1].count == 5 && $0.region.axes[2].count == 5 })
    #expect(interior.flat && interior.contiguous == false && interior.unrolled)
    #expect(interior.run == 25 && interior.pixels == 7)
  }

  /// 32x32x3 to 16 at width 16: one vector per block (the tail block), whose tiles hold up
  /// to 16 pixels; the 30-wide interior rows are 2 tiles of 15 each, 60 tiles, against 57
  /// flat: not fewer by a tenth, so rows are tiled one by one.
  @Test func wideRowsAreTiledRowByRow() throws {
    let p = plan(size: 32, channels: 3, filters: 16)
    #expect(p.fullBlocks == 0 && p.blocks.map(\.index) == ["0"])
    let block = try #require(p.blocks.first)
    #expect(block.vectors == 1 && block.width == 16 && block.valid == 16)
    let interior = try #require(block.regions.first { $0.region.isInterior(geometry(size: 32, channels: 3, filters: 16)) })
    #expect(!interior.flat && interior.contiguous && interior.run == 30 && interior.pixels == 15)
  }

  /// 7x7x512 to 512, 3x3: a block's weights are 9 x 512 x 32 floats (576 KB), past the
  /// 256 KB threshold; 24 KB chunks hold 21 input channels of them, so the chunk is 16 (the
  /// largest divisor of 512 up to 21), 32 chunks.
  @Test func largeBlocksAreChunked() {
    let p = plan(size: 7, channels: 512, filters: 512)
    #expect(p.chunk == 16 && p.chunkInputs == 16 && p.chunks == 32)
    #expect(p.fullBlocks == 16 && p.blocks.count == 1)
  }

  /// 20 channels at width 8: two full blocks of 16 would need 32; one full block and a
  /// tail of one vector (8 lanes, 4 of them real), padded to 24 per group.
  @Test func tailBlockPadsToWholeVectors() {
    let p = plan(size: 5, channels: 4, filters: 20, lanes: 8)
    #expect(p.paddedGroupOut == 24)
    #expect(p.blocks.map(\.index) == ["cb", "1"])
    #expect(p.blocks.map(\.width) == [16, 8] && p.blocks.map(\.valid) == [16, 4])
    #expect(p.chunk == nil && p.chunks == 1)
  }
}
