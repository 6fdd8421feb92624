import NetcIR

/// `ATTN`: multi-head attention on `TxC` as PyTorch's eager path and Hugging Face's
/// GPT-2 / Llama compute it. Queries from `x`, keys and values from the memory (`x`, or
/// `cross`'s `SxC'`), each `[out][in]` projection with an optional bias; H query heads of
/// width D share K key/value heads (query head h reads kv head h / (H/K), grouped-query);
/// scores `q kᵀ / sqrt(D)`, a causal mask keeping key j <= query i, a softmax shifted by the
/// row's maximum, the heads concatenated and projected by `wo`. `rope` rotates queries and
/// keys first (`RotaryEmbedding`). The T x S scores are formed one head at a time (a
/// causal head's in blocks of rows, without the keys past the block), and the
/// products are BLAS GEMMs on the heads' strided columns (no per-head copies); with
/// several threads each takes a share of the heads, with a T x S buffer of its own.
struct Attention<T: TensorScalar> {
  var length: Int, memoryLength: Int, width: Int, memoryWidth: Int
  var heads: Int, kvHeads: Int, dim: Int
  var causal: Bool, rotary: Bool, theta: Double
  /// The projections, `[out][in]` (or packed), and their biases (nil with `bias false`).
  var wq: LinearWeight<T>, wk: LinearWeight<T>, wv: LinearWeight<T>, wo: LinearWeight<T>
  var bq: [T]?, bk: [T]?, bv: [T]?, bo: [T]?
  /// Threads for the projections and the heads of `forward`.
  var threads = 1

  /// The projections (queries and keys rotated with `rope`) and the concatenated heads.
  struct Projected {
    var q: [T], k: [T], v: [T], heads: [T]
  }

  var groupSize: Int { heads / kvHeads }

  func forward(_ x: [T], memory m: [T]) -> (y: [T], saved: Projected) {
    let s = projected(x, memory: m)
    return (LastAxisLinear.forward(s.heads, wo, bias: bo, in: heads * dim, out: width, threads: threads), s)
  }

  /// `forward`'s output written into `y` (`T x C`, every element).
  func forward(_ x: [T], memory m: [T], into y: UnsafeMutablePointer<T>) {
    let s = projected(x, memory: m), qw = heads * dim
    s.heads.withUnsafeBufferPointer {
      LastAxisLinear.forward($0.baseAddress!, rows: length, lda: qw, wo, bias: bo, into: y, in: qw, out: width, threads: threads)
    }
  }

  /// The projections and the heads, concatenated: everything but the output projection.
  func projected(_ x: [T], memory m: [T]) -> Projected {
    let qw = heads * dim, kw = kvHeads * dim
    var q = LastAxisLinear.forward(x, wq, bias: bq, in: width, out: qw, threads: threads)
    var k = LastAxisLinear.forward(m, wk, bias: bk, in: memoryWidth, out: kw, threads: threads)
    let v = LastAxisLinear.forward(m, wv, bias: bv, in: memoryWidth, out: kw, threads: threads)
    if rotary {
      RotaryEmbedding.rotate(&q, length: length, heads: heads, dim: dim, theta: theta, inverse: false)
      RotaryEmbedding.rotate(&k, length: memoryLength, heads: kvHeads, dim: dim, theta: theta, inverse: false)
    }
    var o = [T](repeating: 0, count: length * qw)
    // One share of the heads per worker (h = share, share + shares, ...), each with its own
    // probabilities: the heads' costs are equal, so the shares are too.
    let shares = max(1, min(threads, heads)), cost = heads &* length &* memoryLength &* dim
    let parallel = shares > 1 && cost >= parallelThreshold
    var p = [T](repeating: 0, count: (parallel ? shares : 1) * length * memoryLength)
    q.withUnsafeBufferPointer { qb in
      k.withUnsafeBufferPointer { kb in
        v.withUnsafeBufferPointer { vb in
          o.withUnsafeMutableBufferPointer { ob in
            p.withUnsafeMutableBufferPointer { pb in
              let qs = SharedPointer(base: UnsafeMutablePointer(mutating: qb.baseAddress!))
              let ks = SharedPointer(base: UnsafeMutablePointer(mutating: kb.baseAddress!))
              let vs = SharedPointer(base: UnsafeMutablePointer(mutating: vb.baseAddress!))
              let os = SharedPointer(base: ob.baseAddress!), ps = SharedPointer(base: pb.baseAddress!)
              let step = parallel ? shares : 1
              // Query rows at a time (at least 1: a stride of 0 traps, even over no rows).
              let block = causal ? Self.causalRows : max(1, length)
              parallelFor(step, threads: parallel ? threads : 1) { share in
                let probs = ps.base + share * length * memoryLength
                for h in stride(from: share, to: heads, by: step) {
                  let g = h / groupSize
                  // Causal rows i0 ..< i1 see keys below i1 only: the scores above the
                  // diagonal's block are never formed, nor multiplied by V.
                  for i0 in stride(from: 0, to: length, by: block) {
                    let i1 = min(length, i0 + block)
                    let seen = causal ? min(memoryLength, i1) : memoryLength
                    probabilities(qs.base + h * dim, ks.base + g * dim, into: probs, rows: i0..<i1, keys: seen)
                    // O_h = P V_g, written into the head's columns of the concatenation.
                    T.gemm(
                      transA: false, transB: false, m: i1 - i0, n: dim, k: seen, alpha: 1, a: probs + i0 * memoryLength,
                      lda: memoryLength, b: vs.base + g * dim, ldb: kw, beta: 0, c: os.base + i0 * qw + h * dim, ldc: qw)
                  }
                }
              }
            }
          }
        }
      }
    }
    return Projected(q: q, k: k, v: v, heads: o)
  }

  /// The query rows a causal head's scores are formed for at a time: the keys past the
  /// block's last row are skipped, so about half of the `T x S` products are.
  static var causalRows: Int { 64 }

  /// One head's probabilities softmax(Q_h K_gᵀ / sqrt(D)) for query rows `rows` and keys
  /// `0 ..< keys` (the rest of a row is not written), masked entries 0, each row shifted
  /// by its maximum (a causal row keeps its diagonal, so it has one). `p` is `T x S`.
  func probabilities(
    _ q: UnsafePointer<T>, _ k: UnsafePointer<T>, into p: UnsafeMutablePointer<T>, rows: Range<Int>? = nil, keys: Int? = nil
  ) {
    let qw = heads * dim, kw = kvHeads * dim
    let rows = rows ?? 0..<length, keys = keys ?? memoryLength
    guard !rows.isEmpty else { return }
    T.gemm(
      transA: false, transB: true, m: rows.count, n: keys, k: dim, alpha: 1 / T.sqrt(T(dim)), a: q + rows.lowerBound * qw, lda: qw,
      b: k, ldb: kw, beta: 0, c: p + rows.lowerBound * memoryLength, ldc: memoryLength)
    for i in rows {
      let row = p + i * memoryLength
      let visible = causal ? min(i + 1, keys) : keys
      var top = -T.infinity
      for j in 0..<visible { top = max(top, row[j]) }
      let sum = T.expShifted(row, visible, shift: top)
      let inverse = 1 / sum
      for j in 0..<visible { row[j] *= inverse }
      for j in visible..<keys { row[j] = 0 }
    }
  }

  /// Gradients of the input, the memory (nil when it is the input: added into dx) and of
  /// every projection, by kind. Each head's probabilities are formed again, one head at
  /// a time, rather than kept from the forward pass for all heads.
  func backward(_ x: [T], memory m: [T], cross: Bool, _ dy: [T]) -> (dx: [T], dm: [T]?, tensors: [ParameterKind: [T]]) {
    let (_, s) = forward(x, memory: m)
    let qw = heads * dim, kw = kvHeads * dim
    var tensors: [ParameterKind: [T]] = [:]
    let (dO, dwo, dbo) = LastAxisLinear.backward(s.heads, wo.matrix, dy, in: qw, out: width)
    tensors[.wo] = dwo
    if bo != nil { tensors[.bo] = dbo }
    let scale = 1 / T.sqrt(T(dim))
    var dq = [T](repeating: 0, count: length * qw), dk = [T](repeating: 0, count: memoryLength * kw), dv = dk
    var p = [T](repeating: 0, count: length * memoryLength), ds = p
    s.q.withUnsafeBufferPointer { qb in
      s.k.withUnsafeBufferPointer { kb in
        s.v.withUnsafeBufferPointer { vb in
          dO.withUnsafeBufferPointer { gb in
            p.withUnsafeMutableBufferPointer { pb in
              ds.withUnsafeMutableBufferPointer { sb in
                dq.withUnsafeMutableBufferPointer { dqb in
                  dk.withUnsafeMutableBufferPointer { dkb in
                    dv.withUnsafeMutableBufferPointer { dvb in
                      for h in 0..<heads {
                        let g = h / groupSize
                        let (P, dS) = (pb.baseAddress!, sb.baseAddress!)
                        probabilities(qb.baseAddress! + h * dim, kb.baseAddress! + g * dim, into: P)
                        // dV_g += Pᵀ dO_h; dP = dO_h V_gᵀ (into dS).
                        T.gemm(
                          transA: true, transB: false, m: memoryLength, n: dim, k: length, alpha: 1, a: P, lda: memoryLength,
                          b: gb.baseAddress! + h * dim, ldb: qw, beta: 1, c: dvb.baseAddress! + g * dim, ldc: kw)
                        T.gemm(
                          transA: false, transB: true, m: length, n: memoryLength, k: dim, alpha: 1, a: gb.baseAddress! + h * dim,
                          lda: qw, b: vb.baseAddress! + g * dim, ldb: kw, beta: 0, c: dS, ldc: memoryLength)
                        // The softmax's Jacobian, row by row: dS = P (dP - <P, dP>).
                        for i in 0..<length {
                          let row = i * memoryLength
                          var dot: T = 0
                          for j in 0..<memoryLength { dot += P[row + j] * dS[row + j] }
                          for j in 0..<memoryLength { dS[row + j] = P[row + j] * (dS[row + j] - dot) }
                        }
                        // dQ_h = dS K_g / sqrt(D); dK_g += dSᵀ Q_h / sqrt(D).
                        T.gemm(
                          transA: false, transB: false, m: length, n: dim, k: memoryLength, alpha: scale, a: dS, lda: memoryLength,
                          b: kb.baseAddress! + g * dim, ldb: kw, beta: 0, c: dqb.baseAddress! + h * dim, ldc: qw)
                        T.gemm(
                          transA: true, transB: false, m: memoryLength, n: dim, k: length, alpha: scale, a: dS, lda: memoryLength,
                          b: qb.baseAddress! + h * dim, ldb: qw, beta: 1, c: dkb.baseAddress! + g * dim, ldc: kw)
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    if rotary {
      RotaryEmbedding.rotate(&dq, length: length, heads: heads, dim: dim, theta: theta, inverse: true)
      RotaryEmbedding.rotate(&dk, length: memoryLength, heads: kvHeads, dim: dim, theta: theta, inverse: true)
    }
    var (dx, dwq, dbq) = LastAxisLinear.backward(x, wq.matrix, dq, in: width, out: qw)
    let (dmk, dwk, dbk) = LastAxisLinear.backward(m, wk.matrix, dk, in: memoryWidth, out: kw)
    let (dmv, dwv, dbv) = LastAxisLinear.backward(m, wv.matrix, dv, in: memoryWidth, out: kw)
    tensors[.wq] = dwq
    tensors[.wk] = dwk
    tensors[.wv] = dwv
    if bq != nil { tensors[.bq] = dbq }
    if bk != nil { tensors[.bk] = dbk }
    if bv != nil { tensors[.bv] = dbv }
    var dm = dmk
    for i in 0..<dm.count { dm[i] += dmv[i] }
    if cross { return (dx, dm, tensors) }
    for i in 0..<dx.count { dx[i] += dm[i] }
    return (dx, nil, tensors)
  }
}
