extension Kernels {
  /// Fully connected: `y = W x + b` with W `[out][in]`; the rows split over `threads`
  /// (a matrix-vector product reads each weight once, so it is bound by memory and both
  /// cores' bandwidth helps).
  static func fcForward<T: TensorScalar>(_ x: [T], _ w: [T], bias: [T]?, out: Int, threads: Int = 1) -> [T] {
    var y = bias ?? [T](repeating: 0, count: out)
    let n = x.count
    let parts = max(1, min(threads, out / 16)), rows = (out + parts - 1) / max(1, parts)
    x.withUnsafeBufferPointer { xb in
      w.withUnsafeBufferPointer { wb in
        y.withUnsafeMutableBufferPointer { yb in
          let xs = SharedPointer(base: UnsafeMutablePointer(mutating: xb.baseAddress!))
          let ws = SharedPointer(base: UnsafeMutablePointer(mutating: wb.baseAddress!))
          let ys = SharedPointer(base: yb.baseAddress!)
          parallelFor(parts, threads: threads, cost: out &* n) { part in
            let o0 = part * rows, o1 = min(out, o0 + rows)
            guard o0 < o1 else { return }
            // A GEMV: sgemm with one column copied the whole weight matrix on every call
            // (5 MB for MobileNet v2's classifier; 4.6% of its time).
            T.gemv(m: o1 - o0, n: n, a: ws.base + o0 * n, lda: n, x: xs.base, y: ys.base + o0)
          }
        }
      }
    }
    return y
  }
}
