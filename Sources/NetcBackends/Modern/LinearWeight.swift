/// A last-axis linear layer's weight: `[out][in]` as PyTorch keeps it, or, in a
/// forward-only fp32 interpreter, in the packed GEMM's panels alone.
enum LinearWeight<T: TensorScalar>: Sendable {
  case rows([T])
  case packed(PackedLinear)

  /// `[out][in]` (unpacked from the panels when packed).
  var matrix: [T] {
    switch self {
    case .rows(let rows): return rows
    case .packed(let packed):
      precondition(T.self == Float.self, "packed weights exist only in a Float interpreter")
      return unsafeBitCast(packed.matrix, to: [T].self)
    }
  }
}
