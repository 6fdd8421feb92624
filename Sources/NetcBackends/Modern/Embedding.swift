/// `EMBED`: token ids to rows of the `[vocab][C]` table (`nn.Embedding`). The ids arrive as
/// the input tensor's values; `run` has checked each is a whole number in `0..<vocab`.
public enum Embedding {
  /// The rows of `table`, `[vocab][C]` or packed (a table tied to a packed LINEAR).
  static func forward<T: TensorScalar>(_ ids: [T], _ table: LinearWeight<T>, width c: Int) -> [T] {
    guard case .packed(let packed) = table else { return forward(ids, table.matrix, width: c) }
    precondition(T.self == Float.self, "packed weights exist only in a Float interpreter")
    var y: [Float] = []
    y.reserveCapacity(ids.count * c)
    for id in ids { packed.row(Int(id), into: &y) }
    return unsafeBitCast(y, to: [T].self)
  }

  static func forward<T: TensorScalar>(_ ids: [T], _ table: [T], width c: Int) -> [T] {
    var y: [T] = []
    y.reserveCapacity(ids.count * c)
    for id in ids {
      let row = Int(id) * c
      y.append(contentsOf: table[row..<(row + c)])
    }
    return y
  }

  /// The table's gradient: each position's dy added to its id's row (repeated ids add up).
  static func tableGradient<T: TensorScalar>(_ ids: [T], _ dy: [T], width c: Int, tableCount: Int) -> [T] {
    var d = [T](repeating: 0, count: tableCount)
    for (t, id) in ids.enumerated() {
      let row = Int(id) * c
      for j in 0..<c { d[row + j] += dy[t * c + j] }
    }
    return d
  }

  /// The first id of `ids` that is not a whole number in `0..<vocab`, with its position.
  public static func firstInvalid<T: TensorScalar>(_ ids: [T], vocab: Int) -> (position: Int, value: T)? {
    for (t, id) in ids.enumerated() where !(id >= 0 && id < T(vocab) && id.rounded(.towardZero) == id) { return (t, id) }
    return nil
  }
}
