import NetcIR

#if canImport(Glibc)
  import Glibc
#endif

/// `ATTN`: multi-head attention on `TxC` as PyTorch's eager path and Hugging Face's
/// GPT-2 / Llama compute it. Queries from `x`, keys and values from the memory (`x`, or
/// `cross`'s `SxC'`), each `[out][in]` projection with an optional bias; H query heads of
/// width D share K key/value heads (query head h reads kv head h / (H/K), grouped-query);
/// scores `q kᵀ / sqrt(D)`, a causal mask keeping key j <= query i, a softmax shifted by the
/// row's maximum, the heads concatenated and projected by `wo`. `rope` rotates queries and
/// keys first (`RotaryEmbedding`). The T x S scores are formed one head at a time.
struct Attention<T: TensorScalar> {
  var length: Int, memoryLength: Int, width: Int, memoryWidth: Int
  var heads: Int, kvHeads: Int, dim: Int
  var causal: Bool, rotary: Bool
  /// The projections, `[out][in]`, and their biases (nil with `bias false`).
  var wq: [T], wk: [T], wv: [T], wo: [T]
  var bq: [T]?, bk: [T]?, bv: [T]?, bo: [T]?

  /// What the backward pass reuses: the rotated queries and keys, the values, every
  /// head's probabilities, the concatenated heads.
  struct Saved {
    var q: [T], k: [T], v: [T], probabilities: [[T]], heads: [T]
  }

  var groupSize: Int { heads / kvHeads }

  func forward(_ x: [T], memory m: [T]) -> (y: [T], saved: Saved) {
    let qw = heads * dim, kw = kvHeads * dim
    var q = LastAxisLinear.forward(x, wq, bias: bq, in: width, out: qw)
    var k = LastAxisLinear.forward(m, wk, bias: bk, in: memoryWidth, out: kw)
    let v = LastAxisLinear.forward(m, wv, bias: bv, in: memoryWidth, out: kw)
    if rotary {
      RotaryEmbedding.rotate(&q, length: length, heads: heads, dim: dim, inverse: false)
      RotaryEmbedding.rotate(&k, length: memoryLength, heads: kvHeads, dim: dim, inverse: false)
    }
    let scale = 1 / T.sqrt(T(dim))
    var o = [T](repeating: 0, count: length * qw)
    var probabilities: [[T]] = []
    for h in 0..<heads {
      let g = h / groupSize
      var p = [T](repeating: 0, count: length * memoryLength)
      for i in 0..<length {
        var top = -T.infinity
        for j in 0..<memoryLength {
          if causal && j > i {
            p[i * memoryLength + j] = -T.infinity
            continue
          }
          var s: T = 0
          for d in 0..<dim { s += q[i * qw + h * dim + d] * k[j * kw + g * dim + d] }
          p[i * memoryLength + j] = s * scale
          top = max(top, s * scale)
        }
        var sum: T = 0
        for j in 0..<memoryLength {
          let e = causal && j > i ? 0 : T.exp(p[i * memoryLength + j] - top)
          p[i * memoryLength + j] = e
          sum += e
        }
        for j in 0..<memoryLength { p[i * memoryLength + j] /= sum }
        for j in 0..<memoryLength where p[i * memoryLength + j] != 0 {
          let w = p[i * memoryLength + j]
          for d in 0..<dim { o[i * qw + h * dim + d] += w * v[j * kw + g * dim + d] }
        }
      }
      probabilities.append(p)
    }
    let y = LastAxisLinear.forward(o, wo, bias: bo, in: qw, out: width)
    return (y, Saved(q: q, k: k, v: v, probabilities: probabilities, heads: o))
  }

  /// Gradients of the input, the memory (nil when it is the input: added into dx) and of
  /// every projection, by kind.
  func backward(_ x: [T], memory m: [T], cross: Bool, _ dy: [T]) -> (dx: [T], dm: [T]?, tensors: [ParameterKind: [T]]) {
    let (_, s) = forward(x, memory: m)
    let qw = heads * dim, kw = kvHeads * dim
    var tensors: [ParameterKind: [T]] = [:]
    let (dO, dwo, dbo) = LastAxisLinear.backward(s.heads, wo, dy, in: qw, out: width)
    tensors[.wo] = dwo
    if bo != nil { tensors[.bo] = dbo }
    let scale = 1 / T.sqrt(T(dim))
    var dq = [T](repeating: 0, count: length * qw), dk = [T](repeating: 0, count: memoryLength * kw), dv = dk
    var dp = [T](repeating: 0, count: memoryLength)
    for h in 0..<heads {
      let g = h / groupSize, p = s.probabilities[h]
      for i in 0..<length {
        // dP = dO vᵀ, dV += Pᵀ dO, then the softmax's Jacobian: dS = P (dP - <P, dP>).
        var dot: T = 0
        for j in 0..<memoryLength {
          let pij = p[i * memoryLength + j]
          var acc: T = 0
          for d in 0..<dim {
            let go = dO[i * qw + h * dim + d]
            acc += go * s.v[j * kw + g * dim + d]
            dv[j * kw + g * dim + d] += pij * go
          }
          dp[j] = acc
          dot += pij * acc
        }
        for j in 0..<memoryLength {
          let ds = p[i * memoryLength + j] * (dp[j] - dot) * scale
          if ds == 0 { continue }
          for d in 0..<dim {
            dq[i * qw + h * dim + d] += ds * s.k[j * kw + g * dim + d]
            dk[j * kw + g * dim + d] += ds * s.q[i * qw + h * dim + d]
          }
        }
      }
    }
    if rotary {
      RotaryEmbedding.rotate(&dq, length: length, heads: heads, dim: dim, inverse: true)
      RotaryEmbedding.rotate(&dk, length: memoryLength, heads: kvHeads, dim: dim, inverse: true)
    }
    var (dx, dwq, dbq) = LastAxisLinear.backward(x, wq, dq, in: width, out: qw)
    let (dmk, dwk, dbk) = LastAxisLinear.backward(m, wk, dk, in: memoryWidth, out: kw)
    let (dmv, dwv, dbv) = LastAxisLinear.backward(m, wv, dv, in: memoryWidth, out: kw)
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
