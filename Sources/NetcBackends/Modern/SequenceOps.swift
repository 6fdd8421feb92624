#if canImport(Glibc)
  import Glibc
#endif

/// The sequence layers that move rows of `LxC` without arithmetic beyond an add: `TAKE`,
/// `CLSTOKEN`, and the learned, sinusoidal and token-type embeddings added to a sequence.
/// (`TOKENS` needs no code: channels-last `HxWxC` already is `(H*W)xC` row by row.)
public enum SequenceOps {
  /// `TAKE index i`: row i, counted from the end when negative.
  static func row(_ index: Int, length: Int) -> Int { index < 0 ? length + index : index }

  /// Rows `0..<rows` of a table with `c` columns added to `x` (`POSEMBED`'s learned table).
  static func addRows<T: TensorScalar>(_ x: [T], _ table: [T]) -> [T] {
    var y = x
    for i in 0..<y.count { y[i] += table[i] }
    return y
  }

  /// The table's gradient: dy in its first rows, zeros in the rows the sequence did not reach.
  static func rowsGradient<T: TensorScalar>(_ dy: [T], tableCount: Int) -> [T] {
    var d = [T](repeating: 0, count: tableCount)
    for i in 0..<dy.count { d[i] = dy[i] }
    return d
  }

  /// Vaswani et al. (2017), section 3.5, interleaved as written there and in the
  /// Annotated Transformer: PE(p, 2i) = sin(p / 10000^(2i/C)), PE(p, 2i+1) = cos(p / 10000^(2i/C)).
  /// Computed in Double, then rounded, so fp32 and fp64 runs add the same table.
  public static func sinusoidal<T: TensorScalar>(length: Int, channels c: Int) -> [T] {
    var table = [T](repeating: 0, count: length * c)
    for p in 0..<length {
      for j in 0..<c {
        let even = Double(j - j % 2)
        let angle = Double(p) / pow(10000, even / Double(c))
        table[p * c + j] = T(j % 2 == 0 ? sin(angle) : cos(angle))
      }
    }
    return table
  }

  /// `TYPEEMBED`: every token is of type 0 (the run takes no type ids), so row 0 is added.
  static func addFirstRow<T: TensorScalar>(_ x: [T], _ table: [T], channels c: Int) -> [T] {
    var y = x
    for i in 0..<y.count { y[i] += table[i % c] }
    return y
  }

  /// The table's gradient for `addFirstRow`: row 0 sums dy over positions.
  static func firstRowGradient<T: TensorScalar>(_ dy: [T], channels c: Int, tableCount: Int) -> [T] {
    var d = [T](repeating: 0, count: tableCount)
    for i in 0..<dy.count { d[i % c] += dy[i] }
    return d
  }
}
