import CNetcKernels

extension Kernels {
  /// Global average or max pool of `positions` x `channels` channels-last values into
  /// `channels` outputs (max: NaN wins, as in the reference loop).
  static func globalPool<T: TensorScalar>(
    _ x: UnsafePointer<T>, positions: Int, channels c: Int, max isMax: Bool, into y: UnsafeMutablePointer<T>
  ) {
    // One loop per op, so the channel loop vectorises (checked indexing and the op test per
    // element took 0.4 ms of ResNet-50's 7x7x2048).
    y.update(repeating: isMax ? -T.infinity : 0, count: c)
    for q in 0..<positions {
      let row = x + q * c
      if isMax {
        for j in 0..<c where row[j] > y[j] || row[j].isNaN { y[j] = row[j] }
      } else {
        for j in 0..<c { y[j] += row[j] }
      }
    }
    if !isMax { for j in 0..<c { y[j] /= T(positions) } }
  }

  /// Max or average pool forward, channels last, into a new array.
  static func poolForward<T: TensorScalar>(_ x: [T], _ g: ConvGeometry, max isMax: Bool, threads: Int) -> [T] {
    let n = g.outPositions * g.inChannels
    return [T](unsafeUninitializedCapacity: n) { yb, count in
      count = n
      guard n > 0 else { return }
      x.withUnsafeBufferPointer { xb in
        poolForward(xb.baseAddress!, g, max: isMax, into: yb.baseAddress!, threads: threads)
      }
    }
  }

  /// Max or average pool forward, channels last, into `y` (every element written).
  static func poolForward<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ g: ConvGeometry, max isMax: Bool, into y: UnsafeMutablePointer<T>, threads: Int
  ) {
    let c = g.inChannels, P = g.outPositions
    if isMax && T.self == Float.self && g.input[0] == 1 && g.kernel[0] == 1 && g.output[0] == 1
      && g.padBegin[0] == 0 && netc_kernel_level() > 0
    {
      // `CNetcKernels`' AVX-512/AVX2 version (this loop is SSE: 4.6% of ResNet-50's time).
      var geometry = g.window2D
      let xs = SharedPointer(base: UnsafeMutableRawPointer(mutating: x).assumingMemoryBound(to: Float.self))
      let ys = SharedPointer(base: UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self))
      withUnsafePointer(to: &geometry) { gp in
        let gs = SharedPointer(base: UnsafeMutablePointer(mutating: gp))
        parallelFor(g.output[1], threads: threads, cost: P &* c &* g.taps) { oh in
          _ = netc_maxpool_row(gs.base, xs.base, ys.base, oh)
        }
      }
      return
    }
    y.update(repeating: isMax ? -T.infinity : 0, count: P * c)
    let xs = SharedPointer(base: UnsafeMutablePointer(mutating: x))
    let ys = SharedPointer(base: y)
    parallelFor(P, threads: threads, cost: P &* c &* g.taps) { p in
      let out = ys.base + p * c
      g.forEachTap(p) { _, q in
        let src = xs.base + q * c
        if isMax {
          for j in 0..<c where src[j] > out[j] || src[j].isNaN { out[j] = src[j] }
        } else {
          for j in 0..<c { out[j] += src[j] }
        }
      }
      if !isMax {
        let n = T(g.paddedTapCount(p))
        for j in 0..<c { out[j] /= n }
      }
    }
  }

  /// Max or average pool backward: the gradient goes to each window's first maximum (as
  /// PyTorch), or is spread evenly over the window's taps (padding taps take their share).
  static func poolBackward<T: TensorScalar>(_ x: [T], _ dy: [T], _ g: ConvGeometry, max isMax: Bool) -> [T] {
    let c = g.inChannels, P = g.outPositions
    var dx = [T](repeating: 0, count: g.inPositions * c)
    for p in 0..<P {
      if isMax {
        for j in 0..<c {
          var best = -T.infinity, at = -1
          g.forEachTap(p) { _, q in
            let v = x[q * c + j]
            if at < 0 || v > best || (v.isNaN && !best.isNaN) { best = v; at = q }
          }
          if at >= 0 { dx[at * c + j] += dy[p * c + j] }
        }
      } else {
        let n = T(g.paddedTapCount(p))
        g.forEachTap(p) { _, q in
          for j in 0..<c { dx[q * c + j] += dy[p * c + j] / n }
        }
      }
    }
    return dx
  }
}
