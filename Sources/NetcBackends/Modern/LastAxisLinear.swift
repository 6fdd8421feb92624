import CNetcKernels

/// `LINEAR` (and a mixture's router, and attention's projections): `y = x Wᵀ + b` for
/// every position of any rank, W `[out][in]` as PyTorch keeps it. In fp32 on AVX2 or
/// AVX-512 the rows go through netc's packed GEMM, which packs W block by block as it goes
/// (so no second copy of the weights exists); else through BLAS. Either way the output
/// columns are split into blocks spread over the threads: each thread streams its share of
/// W, which at a few hundred positions is most of the bytes. A forward-only interpreter
/// holds fp32 weights packed once instead (`PackedLinear`).
enum LastAxisLinear {
  /// `rows x in` times Wᵀ: `rows x out`, W as `LinearWeight` holds it.
  static func forward<T: TensorScalar>(_ x: [T], _ w: LinearWeight<T>, bias: [T]?, in n: Int, out m: Int, threads: Int) -> [T] {
    let rows = x.count / n
    return [T](unsafeUninitializedCapacity: rows * m) { yb, count in
      count = rows * m
      x.withUnsafeBufferPointer {
        forward($0.baseAddress!, rows: rows, lda: n, w, bias: bias, into: yb.baseAddress!, in: n, out: m, threads: threads)
      }
    }
  }

  /// `y` (`rows x out`, every element written) from `x`'s rows, `lda` apart.
  static func forward<T: TensorScalar>(
    _ x: UnsafePointer<T>, rows: Int, lda: Int, _ w: UnsafePointer<T>, bias: UnsafePointer<T>?, into y: UnsafeMutablePointer<T>,
    in n: Int, out m: Int, threads: Int
  ) {
    guard rows > 0, m > 0 else { return }
    let (width, blocks) = columnBlocks(in: n, out: m, threads: threads)
    let xs = SharedPointer(base: UnsafeMutablePointer(mutating: x)), ws = SharedPointer(base: UnsafeMutablePointer(mutating: w))
    let ys = SharedPointer(base: y), bs = bias.map { SharedPointer(base: UnsafeMutablePointer(mutating: $0)) }
    parallelFor(blocks, threads: threads, cost: rows &* m &* n) { b in
      let j0 = b * width, j1 = min(m, j0 + width)
      let bp = bs.map { UnsafePointer($0.base) }
      if T.linear(
        UnsafePointer(xs.base), lda: lda, UnsafePointer(ws.base), ldw: n, k: n, into: ys.base, ldc: m, bias: bp, rows: 0..<rows,
        columns: j0..<j1)
      {
        return
      }
      if let bp { for r in 0..<rows { for o in j0..<j1 { ys.base[r * m + o] = bp[o] } } }
      T.gemm(
        transA: false, transB: true, m: rows, n: j1 - j0, k: n, alpha: 1, a: xs.base, lda: lda, b: ws.base + j0 * n, ldb: n,
        beta: bp == nil ? 0 : 1, c: ys.base + j0, ldc: m)
    }
  }

  /// The output columns in blocks for the threads: two blocks a thread at least (a late
  /// helper still gets a share), each a whole number of the kernel's 32-column panels and
  /// at most what `netc_linear` packs at once (where k is longer than one GEMM K block, a
  /// block's sums stay in cache between the K blocks).
  static func columnBlocks(in n: Int, out m: Int, threads: Int) -> (width: Int, count: Int) {
    let workers = max(1, threads)
    let most = netc_linear_block_columns(n), even = ((m + 2 * workers - 1) / (2 * workers) + 31) / 32 * 32
    let width = workers > 1 ? max(32, min(most, even)) : most
    return (width, (m + width - 1) / width)
  }

  /// The pointer form of `forward` with W as `LinearWeight` holds it: `y` (`rows x out`,
  /// every element written) from `x`'s rows, `lda` apart.
  static func forward<T: TensorScalar>(
    _ x: UnsafePointer<T>, rows: Int, lda: Int, _ w: LinearWeight<T>, bias: [T]?, into y: UnsafeMutablePointer<T>, in n: Int,
    out m: Int, threads: Int
  ) {
    func run(_ b: UnsafePointer<T>?) {
      switch w {
      case .rows(let rows_):
        rows_.withUnsafeBufferPointer {
          forward(x, rows: rows, lda: lda, $0.baseAddress!, bias: b, into: y, in: n, out: m, threads: threads)
        }
      case .packed(let packed):
        precondition(T.self == Float.self)
        func float<P>(_ p: UnsafePointer<P>) -> UnsafePointer<Float> { UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) }
        packed.forward(
          float(x), rows: rows, lda: lda, bias: b.map(float), into: UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self),
          threads: threads)
      }
    }
    if let bias { bias.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
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
