import NetcIR
import NetcPasses
import Testing

@testable import NetcBackends

/// The border/interior segments of one axis. Output o's window starts at input
/// `o * stride - pad` and tap t reads `start + t * dilation`, which must lie in 0..<input.
@Suite struct WindowRegionsTests {
  typealias Segment = WindowRegion.Segment

  func geometry(input: Int, kernel: Int, stride: Int = 1, pad: Int, dilation: Int = 1, output: Int) -> ConvGeometry {
    ConvGeometry(
      inShape: [input, 1], outShape: [output, 1],
      window: Window(kernel: [kernel], stride: [stride], padBegin: [pad], padEnd: [pad], dilation: [dilation], rounding: .floor),
      inChannels: 1, outChannels: 1, groups: 1)
  }

  /// 56 wide, 3 taps, pad 1: o = 0 starts at -1 and loses tap 0; o = 55 starts at 54 and
  /// loses tap 2 (54 + 2 = 56); o = 1...54 read all three.
  @Test func padOne() {
    let g = geometry(input: 56, kernel: 3, pad: 1, output: 56)
    #expect(
      WindowRegion.segments(g, axis: 2) == [
        Segment(from: 0, to: 1, tapFrom: 1, tapTo: 3), Segment(from: 1, to: 55, tapFrom: 0, tapTo: 3),
        Segment(from: 55, to: 56, tapFrom: 0, tapTo: 2),
      ])
  }

  /// ResNet's stem, 224 wide, 7 taps, stride 2, pad 3: output (224 + 6 - 7) / 2 + 1 = 112.
  /// o = 0 starts at -3 (taps 3..<7), o = 1 at -1 (taps 1..<7); o = 110 starts at 217 and
  /// ends at 223, the last full window; o = 111 starts at 219: taps 0..<5 (219 + 4 = 223).
  @Test func strideTwoPadThree() {
    let g = geometry(input: 224, kernel: 7, stride: 2, pad: 3, output: 112)
    #expect(
      WindowRegion.segments(g, axis: 2) == [
        Segment(from: 0, to: 1, tapFrom: 3, tapTo: 7), Segment(from: 1, to: 2, tapFrom: 1, tapTo: 7),
        Segment(from: 2, to: 111, tapFrom: 0, tapTo: 7), Segment(from: 111, to: 112, tapFrom: 0, tapTo: 5),
      ])
  }

  /// 5 wide, 3 taps, pad 3: output 5 + 6 - 3 + 1 = 9. o = 0 starts at -3 and o = 8 at 5:
  /// no tap inside (an empty range); o = 1 (start -2) keeps tap 2, o = 2 taps 1..<3,
  /// o = 3...5 (start 0...2) all, o = 6 (start 3) taps 0..<2, o = 7 (start 4) tap 0.
  @Test func windowsWhollyInThePadding() {
    let g = geometry(input: 5, kernel: 3, pad: 3, output: 9)
    #expect(
      WindowRegion.segments(g, axis: 2) == [
        Segment(from: 0, to: 1, tapFrom: 0, tapTo: 0), Segment(from: 1, to: 2, tapFrom: 2, tapTo: 3),
        Segment(from: 2, to: 3, tapFrom: 1, tapTo: 3), Segment(from: 3, to: 6, tapFrom: 0, tapTo: 3),
        Segment(from: 6, to: 7, tapFrom: 0, tapTo: 2), Segment(from: 7, to: 8, tapFrom: 0, tapTo: 1),
        Segment(from: 8, to: 9, tapFrom: 0, tapTo: 0),
      ])
  }

  /// 10 wide, 3 taps at dilation 3 (span 7), pad 2: output 10 + 4 - 7 + 1 = 8. o = 0, 1
  /// start at -2, -1: tap 0 is outside, taps 1, 2 read 1...4; o = 2...5 read all;
  /// o = 6, 7 start at 4, 5: tap 2 reads 10, 11, outside.
  @Test func dilated() {
    let g = geometry(input: 10, kernel: 3, pad: 2, dilation: 3, output: 8)
    #expect(
      WindowRegion.segments(g, axis: 2) == [
        Segment(from: 0, to: 2, tapFrom: 1, tapTo: 3), Segment(from: 2, to: 6, tapFrom: 0, tapTo: 3),
        Segment(from: 6, to: 8, tapFrom: 0, tapTo: 2),
      ])
  }

  /// A 2-D 3x3 pad 1 conv on 56x56 has 3 x 3 regions; the corner reads taps (1..<3, 1..<3),
  /// 4 taps at input offsets 0, C, 56C, 57C from its first tap (C channels).
  @Test func regionsOfAPaddedConv() {
    let g = ConvGeometry(
      inShape: [56, 56, 64], outShape: [56, 56, 64],
      window: Window(kernel: [3, 3], stride: [1, 1], padBegin: [1, 1], padEnd: [1, 1], dilation: [1, 1], rounding: .floor),
      inChannels: 64, outChannels: 64, groups: 1)
    let regions = WindowRegion.regions(g)
    #expect(regions.count == 9)
    #expect(regions.filter { $0.isInterior(g) }.map(\.positions) == [54 * 54])
    let corner = regions[0]
    #expect(corner.tapList(g, channels: 64).map(\.index) == [4, 5, 7, 8])  // kh * 3 + kw
    #expect(corner.tapList(g, channels: 64).map(\.offset) == [0, 64, 56 * 64, 57 * 64])
  }
}
