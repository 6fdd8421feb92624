import CNetcKernels
import NetcPasses

/// A window op's geometry with every spatial rank (1-D, 2-D, 3-D) written as 3-D: missing
/// leading axes have extent 1, kernel 1, stride 1, no padding. One set of loops serves all.
struct ConvGeometry: Sendable {
  /// Input and output spatial extents (depth, height, width).
  var input: [Int], output: [Int]
  /// Kernel, stride, begin padding and dilation per axis.
  var kernel: [Int], stride: [Int], padBegin: [Int], padEnd: [Int], dilation: [Int]
  /// Channels in and out, and groups.
  var inChannels: Int, outChannels: Int, groups: Int

  /// The geometry of a node whose input has shape `inShape` (channels last).
  init(inShape: [Int], outShape: [Int], window: Window, inChannels: Int, outChannels: Int, groups: Int) {
    let lead = 3 - (inShape.count - 1)
    func pad(_ v: [Int], _ fill: Int) -> [Int] { Array(repeating: fill, count: lead) + v }
    input = pad(Array(inShape.dropLast()), 1)
    output = pad(Array(outShape.dropLast()), 1)
    kernel = pad(window.kernel, 1)
    stride = pad(window.stride, 1)
    padBegin = pad(window.padBegin, 0)
    padEnd = pad(window.padEnd, 0)
    dilation = pad(window.dilation, 1)
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.groups = groups
  }

  /// Kernel taps (kd * kh * kw).
  var taps: Int { kernel[0] * kernel[1] * kernel[2] }
  /// Output positions.
  var outPositions: Int { output[0] * output[1] * output[2] }
  /// Input positions.
  var inPositions: Int { input[0] * input[1] * input[2] }
  /// Input channels per group.
  var groupIn: Int { inChannels / groups }
  /// Output channels per group.
  var groupOut: Int { outChannels / groups }
  /// True when the op reads each input position once, in order: a 1x1, stride-1, unpadded window.
  /// The last two axes as `CNetcKernels`' 2-D window (depthwise conv, max pool), for a
  /// geometry whose leading axis is trivial.
  var window2D: netc_depthwise_geometry {
    netc_depthwise_geometry(
      channels: inChannels, height: input[1], width: input[2], outWidth: output[2], kernelH: kernel[1],
      kernelW: kernel[2], strideH: stride[1], strideW: stride[2], padH: padBegin[1], padW: padBegin[2],
      dilationH: dilation[1], dilationW: dilation[2])
  }

  var isPointwise: Bool {
    kernel == [1, 1, 1] && stride == [1, 1, 1] && padBegin == [0, 0, 0] && padEnd == [0, 0, 0]
  }

  /// Calls `body(tap, inputPosition)` for every tap of output position `p` that falls
  /// inside the input (padding reads nothing), taps in row-major (kd, kh, kw) order.
  @inline(__always)
  func forEachTap(_ p: Int, _ body: (Int, Int) -> Void) {
    let ow = p % output[2], oh = (p / output[2]) % output[1], od = p / (output[2] * output[1])
    var tap = 0
    for kd in 0..<kernel[0] {
      let id = od * stride[0] - padBegin[0] + kd * dilation[0]
      if id < 0 || id >= input[0] { tap += kernel[1] * kernel[2]; continue }
      for kh in 0..<kernel[1] {
        let ih = oh * stride[1] - padBegin[1] + kh * dilation[1]
        if ih < 0 || ih >= input[1] { tap += kernel[2]; continue }
        for kw in 0..<kernel[2] {
          let iw = ow * stride[2] - padBegin[2] + kw * dilation[2]
          if iw >= 0 && iw < input[2] { body(tap, (id * input[1] + ih) * input[2] + iw) }
          tap += 1
        }
      }
    }
  }

  /// How many taps of output position `p` lie within the padded input (`[-padBegin,
  /// in + padEnd)` on every axis): the divisor of an average pool that counts padding, as
  /// PyTorch's default `count_include_pad=True` does.
  func paddedTapCount(_ p: Int) -> Int {
    let o = [p / (output[2] * output[1]), (p / output[2]) % output[1], p % output[2]]
    var n = 1
    for a in 0..<3 {
      var c = 0
      for k in 0..<kernel[a] {
        let i = o[a] * stride[a] - padBegin[a] + k * dilation[a]
        if i >= -padBegin[a] && i < input[a] + padEnd[a] { c += 1 }
      }
      n *= c
    }
    return n
  }
}
