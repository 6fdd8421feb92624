#if canImport(Glibc)
  import Glibc
#endif

/// Rotary position embedding (Su et al. 2021) in Hugging Face Llama's convention
/// (`rotate_half`, `rope_theta` 10000): within each head, channel d < D/2 pairs with
/// d + D/2 and the pair turns by position * theta^(-2d/D). The angles are computed in
/// Double, as the frequencies' rounding would otherwise differ between fp32 and fp64.
public enum RotaryEmbedding {
  public static let theta = 10000.0

  /// Rotates `x` (`length x heads*dim`, position-major) in place; `inverse` turns back,
  /// which is the rotation's transpose and so carries gradients.
  static func rotate<T: TensorScalar>(_ x: inout [T], length: Int, heads: Int, dim: Int, inverse: Bool) {
    let half = dim / 2, width = heads * dim
    for position in 0..<length {
      for i in 0..<half {
        let angle = Double(position) * pow(theta, -Double(2 * i) / Double(dim))
        let c = T(cos(angle)), s = T(inverse ? -sin(angle) : sin(angle))
        for h in 0..<heads {
          let a = position * width + h * dim + i, b = a + half
          let (u, w) = (x[a], x[b])
          x[a] = u * c - w * s
          x[b] = w * c + u * s
        }
      }
    }
  }
}
