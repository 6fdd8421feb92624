/// LayerNorm and RMSNorm over the last axis of any rank (each row of `C` channels on its
/// own), with PyTorch's definitions: LayerNorm divides by sqrt(biased variance + eps),
/// RMSNorm (Llama's, `nn.RMSNorm`) by sqrt(mean of squares + eps); γ scales, β shifts.
enum LastAxisNorm {
  /// The normalized rows, scaled and shifted; `centered` is LayerNorm, else RMSNorm.
  static func forward<T: TensorScalar>(_ x: [T], channels c: Int, centered: Bool, eps: T, gamma: [T], beta: [T]?) -> [T] {
    [T](unsafeUninitializedCapacity: x.count) { yb, count in
      count = x.count
      x.withUnsafeBufferPointer {
        forward($0.baseAddress!, count: x.count, channels: c, centered: centered, eps: eps, gamma: gamma, beta: beta, into: yb.baseAddress!)
      }
    }
  }

  /// `forward` from `count` elements at `x` into `y` (which may be `x`).
  static func forward<T: TensorScalar>(
    _ x: UnsafePointer<T>, count: Int, channels c: Int, centered: Bool, eps: T, gamma: [T], beta: [T]?, into y: UnsafeMutablePointer<T>
  ) {
    gamma.withUnsafeBufferPointer { g in
      let b = beta ?? [T](repeating: 0, count: c)
      b.withUnsafeBufferPointer { b in
        for base in stride(from: 0, to: count, by: c) {
          let (mean, inverse) = statistics(UnsafeBufferPointer(start: x + base, count: c), centered: centered, eps: eps)
          for j in 0..<c { y[base + j] = (x[base + j] - mean) * inverse * g[j] + b[j] }
        }
      }
    }
  }

  /// dL/dx, dL/dγ and dL/dβ (nil without β). With x̂ the normalized row and g = dy * γ:
  /// LayerNorm dx = (g - mean(g) - x̂ mean(g x̂)) / σ; RMSNorm drops the mean(g) term.
  static func backward<T: TensorScalar>(
    _ x: [T], _ dy: [T], channels c: Int, centered: Bool, eps: T, gamma: [T], hasBeta: Bool
  ) -> (dx: [T], dgamma: [T], dbeta: [T]?) {
    var dx = x, dgamma = [T](repeating: 0, count: c), dbeta = [T](repeating: 0, count: c)
    var normalized = [T](repeating: 0, count: c), scaled = [T](repeating: 0, count: c)
    for base in stride(from: 0, to: x.count, by: c) {
      let (mean, inverse) = statistics(x, base, c, centered: centered, eps: eps)
      var sumG: T = 0, sumGX: T = 0
      for j in 0..<c {
        normalized[j] = (x[base + j] - mean) * inverse
        scaled[j] = dy[base + j] * gamma[j]
        sumG += scaled[j]
        sumGX += scaled[j] * normalized[j]
        dgamma[j] += dy[base + j] * normalized[j]
        dbeta[j] += dy[base + j]
      }
      let meanG = centered ? sumG / T(c) : 0, meanGX = sumGX / T(c)
      for j in 0..<c { dx[base + j] = (scaled[j] - meanG - normalized[j] * meanGX) * inverse }
    }
    return (dx, dgamma, hasBeta ? dbeta : nil)
  }

  /// A row's mean (0 for RMSNorm) and 1 / sqrt(second central moment + eps). Two passes:
  /// E[x^2] - E[x]^2 cancels catastrophically for rows far from zero.
  static func statistics<T: TensorScalar>(_ x: [T], _ base: Int, _ c: Int, centered: Bool, eps: T) -> (mean: T, inverse: T) {
    x.withUnsafeBufferPointer { statistics(UnsafeBufferPointer(rebasing: $0[base..<(base + c)]), centered: centered, eps: eps) }
  }

  static func statistics<T: TensorScalar>(_ row: UnsafeBufferPointer<T>, centered: Bool, eps: T) -> (mean: T, inverse: T) {
    let c = row.count
    var mean: T = 0
    if centered {
      for j in 0..<c { mean += row[j] }
      mean /= T(c)
    }
    var square: T = 0
    for j in 0..<c {
      let d = row[j] - mean
      square += d * d
    }
    return (mean, 1 / T.sqrt(square / T(c) + eps))
  }
}
