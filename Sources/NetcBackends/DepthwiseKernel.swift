import CNetcKernels

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
    if T.self == Float.self && netc_kernel_level() > 0 {
      // `CNetcKernels`' AVX-512/AVX2 version of the loops below (FMAs, so not bit-identical).
      var geometry = g.window2D
      func float(_ p: UnsafePointer<T>?) -> SharedPointer<Float>? {
        p.map { SharedPointer(base: UnsafeMutableRawPointer(mutating: $0).assumingMemoryBound(to: Float.self)) }
      }
      let xs = float(x)!, ws = float(w)!, ys = float(UnsafePointer(y))!
      let bias = float(pass.bias), residual = float(pass.residual)
      let activation = pass.activation.kernelCode
      withUnsafePointer(to: &geometry) { gp in
        let gs = SharedPointer(base: UnsafeMutablePointer(mutating: gp))
        parallelFor(OH, threads: threads, cost: OH * OW * c * kh * kw) { oh in
          _ = netc_depthwise_row(gs.base, xs.base, ws.base, ys.base, bias?.base, residual?.base, activation, oh)
        }
      }
      return
    }
    let xs = SharedPointer(base: UnsafeMutablePointer(mutating: x))
    let ws = SharedPointer(base: UnsafeMutablePointer(mutating: w))
    let ys = SharedPointer(base: y)
    let xStepJ = dw * c, xStepI = dh * W * c, wStepI = kw * c
    parallelFor(OH, threads: threads, cost: OH * OW * c * kh * kw) { oh in
      let x = UnsafePointer(xs.base), w = UnsafePointer(ws.base), y = ys.base
      // The window rows i0..<i1 that fall inside the input.
      let ih0 = oh * sh - ph
      var i0 = 0, i1 = kh
      while i0 < kh && ih0 + i0 * dh < 0 { i0 += 1 }
      while i1 > i0 && ih0 + (i1 - 1) * dh >= H { i1 -= 1 }
      // The channels from `from` on of the output at element `o`, whose first in-bounds
      // tap is at `x0` and `w0`, over `rows` x `cols` taps.
      @inline(__always)
      func single(_ o: Int, _ x0: UnsafePointer<T>, _ w0: UnsafePointer<T>, _ rows: Int, _ cols: Int, from: Int) {
        var ch = from
        while ch &+ 16 <= c {
          var a0 = SIMD8<T>(), a1 = SIMD8<T>()
          var xr = x0 + ch, wr = w0 + ch
          for _ in 0..<rows {
            var xp = xr, wp = wr
            for _ in 0..<cols {
              a0 = a0 + SIMD8<T>.load(xp) * SIMD8<T>.load(wp)
              a1 = a1 + SIMD8<T>.load(xp + 8) * SIMD8<T>.load(wp + 8)
              xp += xStepJ
              wp += c
            }
            xr += xStepI
            wr += wStepI
          }
          pass.addTerms(a0, at: o &+ ch, channel: ch).store(y + (o &+ ch))
          pass.addTerms(a1, at: o &+ ch &+ 8, channel: ch &+ 8).store(y + (o &+ ch &+ 8))
          ch &+= 16
        }
        while ch &+ 8 <= c {
          var a0 = SIMD8<T>()
          var xr = x0 + ch, wr = w0 + ch
          for _ in 0..<rows {
            var xp = xr, wp = wr
            for _ in 0..<cols {
              a0 = a0 + SIMD8<T>.load(xp) * SIMD8<T>.load(wp)
              xp += xStepJ
              wp += c
            }
            xr += xStepI
            wr += wStepI
          }
          pass.addTerms(a0, at: o &+ ch, channel: ch).store(y + (o &+ ch))
          ch &+= 8
        }
        while ch < c {
          var a: T = 0
          var xr = x0 + ch, wr = w0 + ch
          for _ in 0..<rows {
            var xp = xr, wp = wr
            for _ in 0..<cols {
              a += xp.pointee * wp.pointee
              xp += xStepJ
              wp += c
            }
            xr += xStepI
            wr += wStepI
          }
          y[o &+ ch] = pass.addTerms(a, at: o &+ ch, channel: ch)
          ch &+= 1
        }
      }
      var ow = 0
      while ow < OW {
        // And the window columns j0..<j1.
        let iw0 = ow * sw - pw
        var j0 = 0, j1 = kw
        while j0 < kw && iw0 + j0 * dw < 0 { j0 += 1 }
        while j1 > j0 && iw0 + (j1 - 1) * dw >= W { j1 -= 1 }
        let o = (oh &* OW &+ ow) &* c
        // The first tap inside the input; wrapping arithmetic and pointer steps keep
        // overflow checks out of the tap loops (all of it stays within the buffers).
        let x0 = x + (((ih0 &+ i0 &* dh) &* W &+ iw0 &+ j0 &* dw) &* c)
        let w0 = w + ((i0 &* kw &+ j0) &* c)
        let rows = i1 &- i0, cols = j1 &- j0
        // Two neighbours with whole window rows share each weight load (16 channels of
        // both in 4 accumulators); each keeps its own sums in the reference order.
        if ow &+ 1 < OW && j0 == 0 && j1 == kw && iw0 &+ sw &+ (kw &- 1) &* dw < W {
          let next = sw &* c
          var ch = 0
          while ch &+ 16 <= c {
            var a0 = SIMD8<T>(), a1 = SIMD8<T>(), b0 = SIMD8<T>(), b1 = SIMD8<T>()
            var xr = x0 + ch, wr = w0 + ch
            for _ in 0..<rows {
              var xp = xr, wp = wr
              for _ in 0..<cols {
                let k0 = SIMD8<T>.load(wp), k1 = SIMD8<T>.load(wp + 8)
                a0 = a0 + SIMD8<T>.load(xp) * k0
                a1 = a1 + SIMD8<T>.load(xp + 8) * k1
                b0 = b0 + SIMD8<T>.load(xp + next) * k0
                b1 = b1 + SIMD8<T>.load(xp + next + 8) * k1
                xp += xStepJ
                wp += c
              }
              xr += xStepI
              wr += wStepI
            }
            pass.addTerms(a0, at: o &+ ch, channel: ch).store(y + (o &+ ch))
            pass.addTerms(a1, at: o &+ ch &+ 8, channel: ch &+ 8).store(y + (o &+ ch &+ 8))
            pass.addTerms(b0, at: o &+ c &+ ch, channel: ch).store(y + (o &+ c &+ ch))
            pass.addTerms(b1, at: o &+ c &+ ch &+ 8, channel: ch &+ 8).store(y + (o &+ c &+ ch &+ 8))
            ch &+= 16
          }
          single(o, x0, w0, rows, cols, from: ch)
          single(o &+ c, x0 + next, w0, rows, cols, from: ch)
          pass.activate(y + o, count: 2 &* c)
          ow &+= 2
          continue
        }
        single(o, x0, w0, rows, cols, from: 0)
        pass.activate(y + o, count: c)
        ow &+= 1
      }
    }
  }
}
