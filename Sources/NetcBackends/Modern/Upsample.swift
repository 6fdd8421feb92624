#if canImport(Glibc)
  import Glibc
#endif

/// `UPSAMPLE` over the spatial axes of `...xC`, as `F.interpolate` computes it: `nearest`
/// takes source `floor(dst * in / out)`; `bilinear` (linear per axis, so also 1-D and 3-D)
/// with `align_corners=False`, PyTorch's default: source `(dst + 0.5) * in / out - 0.5`,
/// clamped at 0, between its two neighbours.
enum Upsample {
  /// Per output position along one axis: the lower source, the upper one, the upper's weight.
  struct Taps {
    var low: [Int], high: [Int], weight: [Double]
  }

  static func taps(in n: Int, out m: Int, bilinear: Bool) -> Taps {
    var t = Taps(low: [], high: [], weight: [])
    // PyTorch's scale is in / out as a float; with a whole-number scale factor it is exact.
    let scale = Double(n) / Double(m)
    for d in 0..<m {
      if bilinear {
        let src = max((Double(d) + 0.5) * scale - 0.5, 0)
        let low = min(Int(src), n - 1)
        t.low.append(low)
        t.high.append(min(low + 1, n - 1))
        t.weight.append(src - Double(low))
      } else {
        let low = min(Int(floor(Double(d) * scale)), n - 1)
        t.low.append(low)
        t.high.append(low)
        t.weight.append(0)
      }
    }
    return t
  }

  /// Every output element as a weighted sum of input elements (2^axes taps for bilinear).
  static func stencil(_ inShape: [Int], _ outShape: [Int], bilinear: Bool) -> (index: [Int], weight: [Double], taps: Int) {
    let axes = inShape.count - 1, c = inShape[axes]
    let perAxis = (0..<axes).map { taps(in: inShape[$0], out: outShape[$0], bilinear: bilinear) }
    let inStrides = strides(of: inShape)
    let corners = bilinear ? 1 << axes : 1
    let positions = outShape.dropLast().reduce(1, *)
    var index = [Int](), weight = [Double]()
    index.reserveCapacity(positions * corners)
    weight.reserveCapacity(positions * corners)
    var at = Array(repeating: 0, count: axes)
    for _ in 0..<positions {
      for corner in 0..<corners {
        var offset = 0, w = 1.0
        for axis in 0..<axes {
          let t = perAxis[axis], d = at[axis]
          let upper = corner >> axis & 1 == 1
          offset += (upper ? t.high[d] : t.low[d]) * inStrides[axis]
          w *= bilinear ? (upper ? t.weight[d] : 1 - t.weight[d]) : 1
        }
        index.append(offset / c)
        weight.append(w)
      }
      var axis = axes - 1
      while axis >= 0 {
        at[axis] += 1
        if at[axis] < outShape[axis] { break }
        at[axis] = 0
        axis -= 1
      }
    }
    return (index, weight, corners)
  }

  static func forward<T: TensorScalar>(_ x: [T], _ inShape: [Int], _ outShape: [Int], bilinear: Bool) -> [T] {
    let c = inShape.last!
    let (index, weight, corners) = stencil(inShape, outShape, bilinear: bilinear)
    var y = [T](repeating: 0, count: outShape.reduce(1, *))
    for p in 0..<(y.count / c) {
      for k in 0..<corners {
        let src = index[p * corners + k] * c, w = T(weight[p * corners + k])
        for j in 0..<c { y[p * c + j] += w * x[src + j] }
      }
    }
    return y
  }

  static func backward<T: TensorScalar>(_ dy: [T], _ inShape: [Int], _ outShape: [Int], bilinear: Bool) -> [T] {
    let c = inShape.last!
    let (index, weight, corners) = stencil(inShape, outShape, bilinear: bilinear)
    var dx = [T](repeating: 0, count: inShape.reduce(1, *))
    for p in 0..<(dy.count / c) {
      for k in 0..<corners {
        let src = index[p * corners + k] * c, w = T(weight[p * corners + k])
        for j in 0..<c { dx[src + j] += w * dy[p * c + j] }
      }
    }
    return dx
  }
}
