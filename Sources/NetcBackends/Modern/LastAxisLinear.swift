/// `LINEAR` (and a mixture's router): `y = x Wᵀ + b` for every position of any rank, W
/// `[out][in]` as PyTorch keeps it; the rows are one GEMM through BLAS, as FC's are.
enum LastAxisLinear {
  /// `rows x in` times Wᵀ: `rows x out`.
  static func forward<T: TensorScalar>(_ x: [T], _ w: [T], bias: [T]?, in n: Int, out m: Int) -> [T] {
    let rows = x.count / n
    var y = [T](repeating: 0, count: rows * m)
    if let bias { for r in 0..<rows { for o in 0..<m { y[r * m + o] = bias[o] } } }
    guard rows > 0 else { return y }
    x.withUnsafeBufferPointer { xb in
      w.withUnsafeBufferPointer { wb in
        y.withUnsafeMutableBufferPointer { yb in
          T.gemm(
            transA: false, transB: true, m: rows, n: m, k: n, alpha: 1, a: xb.baseAddress!, lda: n, b: wb.baseAddress!, ldb: n,
            beta: bias == nil ? 0 : 1, c: yb.baseAddress!, ldc: m)
        }
      }
    }
    return y
  }

  /// dx = dy W, dW = dyᵀ x, db = the column sums of dy.
  static func backward<T: TensorScalar>(_ x: [T], _ w: [T], _ dy: [T], in n: Int, out m: Int) -> (dx: [T], dw: [T], db: [T]) {
    let rows = x.count / n
    var dx = [T](repeating: 0, count: rows * n), dw = [T](repeating: 0, count: m * n), db = [T](repeating: 0, count: m)
    for r in 0..<rows { for o in 0..<m { db[o] += dy[r * m + o] } }
    guard rows > 0 else { return (dx, dw, db) }
    x.withUnsafeBufferPointer { xb in
      w.withUnsafeBufferPointer { wb in
        dy.withUnsafeBufferPointer { gb in
          dx.withUnsafeMutableBufferPointer { dxb in
            T.gemm(
              transA: false, transB: false, m: rows, n: n, k: m, alpha: 1, a: gb.baseAddress!, lda: m, b: wb.baseAddress!, ldb: n,
              beta: 0, c: dxb.baseAddress!, ldc: n)
          }
          dw.withUnsafeMutableBufferPointer { dwb in
            T.gemm(
              transA: true, transB: false, m: m, n: n, k: rows, alpha: 1, a: gb.baseAddress!, lda: m, b: xb.baseAddress!, ldb: n,
              beta: 0, c: dwb.baseAddress!, ldc: n)
          }
        }
      }
    }
    return (dx, dw, db)
  }
}
