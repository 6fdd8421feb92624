extension Kernels {
  /// Depthwise convolution with channel multiplier 1 over a 1-D or 2-D channels-last input:
  /// per output position, 16 channels at a time are summed over the window's taps in
  /// registers (SIMD without target flags is SSE; two accumulators of 8 lanes are four
  /// independent chains, which hides the add latency), bias and residual are added in
  /// the registers before the one store, and the activation runs on the stored position.
  ///
  /// Taps are summed in the reference loop's order (kh, then kw; padding taps skipped)
  /// starting from zero, the bias added afterwards, so the result is bit-identical to it.
  static func depthwise2D<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ g: ConvGeometry, _ w: UnsafePointer<T>, into y: UnsafeMutablePointer<T>,
    pass: OutputPass<T>, threads: Int
  ) {
    let c = g.outChannels, H = g.input[1], W = g.input[2], OH = g.output[1], OW = g.output[2]
    let kh = g.kernel[1], kw = g.kernel[2], sh = g.stride[1], sw = g.stride[2]
    let ph = g.padBegin[1], pw = g.padBegin[2], dh = g.dilation[1], dw = g.dilation[2]
    let xs = SharedPointer(base: UnsafeMutablePointer(mutating: x))
    let ws = SharedPointer(base: UnsafeMutablePointer(mutating: w))
    let ys = SharedPointer(base: y)
    parallelFor(OH, threads: threads) { oh in
      let x = UnsafePointer(xs.base), w = UnsafePointer(ws.base), y = ys.base
      // The window rows i0..<i1 that fall inside the input.
      let ih0 = oh * sh - ph
      var i0 = 0, i1 = kh
      while i0 < kh && ih0 + i0 * dh < 0 { i0 += 1 }
      while i1 > i0 && ih0 + (i1 - 1) * dh >= H { i1 -= 1 }
      for ow in 0..<OW {
        // And the window columns j0..<j1.
        let iw0 = ow * sw - pw
        var j0 = 0, j1 = kw
        while j0 < kw && iw0 + j0 * dw < 0 { j0 += 1 }
        while j1 > j0 && iw0 + (j1 - 1) * dw >= W { j1 -= 1 }
        let o = (oh * OW + ow) * c
        var ch = 0
        while ch + 16 <= c {
          var a0 = SIMD8<T>(), a1 = SIMD8<T>()
          for i in i0..<i1 {
            let row = ((ih0 + i * dh) * W + iw0) * c + ch, wrow = i * kw * c + ch
            for j in j0..<j1 {
              let s = x + (row + j * dw * c), k = w + (wrow + j * c)
              a0 = a0 + SIMD8<T>.load(s) * SIMD8<T>.load(k)
              a1 = a1 + SIMD8<T>.load(s + 8) * SIMD8<T>.load(k + 8)
            }
          }
          pass.addTerms(a0, at: o + ch, channel: ch).store(y + o + ch)
          pass.addTerms(a1, at: o + ch + 8, channel: ch + 8).store(y + o + ch + 8)
          ch += 16
        }
        while ch + 8 <= c {
          var a0 = SIMD8<T>()
          for i in i0..<i1 {
            let row = ((ih0 + i * dh) * W + iw0) * c + ch, wrow = i * kw * c + ch
            for j in j0..<j1 { a0 = a0 + SIMD8<T>.load(x + (row + j * dw * c)) * SIMD8<T>.load(w + (wrow + j * c)) }
          }
          pass.addTerms(a0, at: o + ch, channel: ch).store(y + o + ch)
          ch += 8
        }
        while ch < c {
          var a: T = 0
          for i in i0..<i1 {
            let row = ((ih0 + i * dh) * W + iw0) * c + ch, wrow = i * kw * c + ch
            for j in j0..<j1 { a += x[row + j * dw * c] * w[wrow + j * c] }
          }
          y[o + ch] = pass.addTerms(a, at: o + ch, channel: ch)
          ch += 1
        }
        pass.activate(y + o, count: c)
      }
    }
  }
}
