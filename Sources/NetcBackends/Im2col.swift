import CNetcKernels

extension Kernels {
  /// Copies the im2col rows of output positions `p0..<p1`, group `group`, into `col`
  /// (`(p1 - p0) x (taps * groupIn)`, zeros for padding).
  static func im2col<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ g: ConvGeometry, group: Int, rows p0: Int, _ p1: Int, into col: UnsafeMutablePointer<T>
  ) {
    let gi = g.groupIn, k = g.taps * gi, cin = g.inChannels
    if g.groups == 1 && g.input[0] == 1 && g.kernel[0] == 1 && g.dilation[2] == 1 {
      if T.self == Float.self && g.outPositions == g.output[1] * g.output[2] {
        var geometry = g.window2D
        let done = netc_im2col_rows(
          &geometry, UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), p0, p1,
          UnsafeMutableRawPointer(col).assumingMemoryBound(to: Float.self))
        if done == 1 { return }
      }
      im2colRows(x, g, rows: p0, p1, into: col)
      return
    }
    col.update(repeating: 0, count: (p1 - p0) * k)
    for p in p0..<p1 {
      let row = col + (p - p0) * k
      g.forEachTap(p) { tap, q in
        (row + tap * gi).update(from: x + q * cin + group * gi, count: gi)
      }
    }
  }

  /// im2col for an ungrouped 1-D or 2-D conv without horizontal dilation: channels last,
  /// a window row's taps are one contiguous run of `kw * Cin` input elements, copied at
  /// once (a tap at a time, with a zeroed tile first, was slow on a 3-channel first conv).
  static func im2colRows<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ g: ConvGeometry, rows p0: Int, _ p1: Int, into col: UnsafeMutablePointer<T>
  ) {
    let cin = g.inChannels, kh = g.kernel[1], kw = g.kernel[2], run = kw * cin, k = kh * run
    let H = g.input[1], W = g.input[2], OW = g.output[2]
    for p in p0..<p1 {
      let row = col + (p - p0) * k
      let oh = (p / OW) % g.output[1], ow = p % OW
      let iw0 = ow * g.stride[2] - g.padBegin[2]
      for i in 0..<kh {
        let dst = row + i * run
        let ih = oh * g.stride[1] - g.padBegin[1] + i * g.dilation[1]
        if ih < 0 || ih >= H {
          dst.update(repeating: 0, count: run)
        } else if iw0 >= 0 && iw0 + kw <= W {
          copy(x + (ih * W + iw0) * cin, to: dst, count: run)
        } else {
          for j in 0..<kw {
            let iw = iw0 + j
            if iw >= 0 && iw < W {
              copy(x + (ih * W + iw) * cin, to: dst + j * cin, count: cin)
            } else {
              (dst + j * cin).update(repeating: 0, count: cin)
            }
          }
        }
      }
    }
  }

  /// Copies `count` elements: a loop for a few (an RGB input's taps), else memmove.
  @inline(__always)
  static func copy<T>(_ src: UnsafePointer<T>, to dst: UnsafeMutablePointer<T>, count: Int) {
    if count < 16 {
      for c in 0..<count { dst[c] = src[c] }
    } else {
      dst.update(from: src, count: count)
    }
  }

  /// Adds the im2col rows in `col` back onto the input gradient `dx` (the adjoint of im2col).
  static func col2im<T: TensorScalar>(
    _ col: UnsafePointer<T>, _ g: ConvGeometry, group: Int, rows p0: Int, _ p1: Int, into dx: UnsafeMutablePointer<T>
  ) {
    let gi = g.groupIn, k = g.taps * gi, cin = g.inChannels
    for p in p0..<p1 {
      let row = col + (p - p0) * k
      g.forEachTap(p) { tap, q in
        let dst = dx + q * cin + group * gi, src = row + tap * gi
        for c in 0..<gi { dst[c] += src[c] }
      }
    }
  }
}
