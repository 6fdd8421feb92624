import NetcIR

/// A node's figures in a rule's numbers. The active figures are what one token (or one
/// example) runs through: they differ from the totals only in a mixture of experts.
struct RuleCost<N: RuleNumber> {
  var params: N = .constant(0)
  var activeParams: N = .constant(0)
  var buffers: N = .constant(0)
  var macs: N = .constant(0)
  var activeMacs: N = .constant(0)
  var activations: N = .constant(0)
  /// Elements of attention's key/value cache: `2 * kv heads * dim * S` for the S positions
  /// its keys and values come from, in the layers a decoder caches.
  var kvCache: N = .constant(0)
}

/// The cost rule of every op, written once, per example: parameters and buffers are the
/// elements of its parameter tensors (learnable or not; a tied weight is its owner's);
/// MACs are the multiply-accumulates of its matrix products and convolutions:
/// - conv `prod(weight) * prod(output spatial extents)`; a transposed conv the input's;
/// - fc `prod(weight)`; linear and router `prod(weight) * positions` (every extent but the last);
/// - attention: the four projections (queries and output over the T positions, keys and
///   values over the S positions they read) and QKᵀ and attention x V over the full T x S
///   square, `2 * heads * T * S * dim`, whatever the mask;
/// - everything else (embeddings, norms, activations, pooling, merges) none.
/// An expert's figures count every expert in the totals and the routed ones in the active
/// figures. Only an attention a decoder caches (`cached`: a causal self-attention, whose
/// keys and values grow a position per generated token, or a cross-attention, whose keys and
/// values over the memory are computed once) has a KV cache; an encoder's (BERT's, ViT's,
/// an encoder-decoder's encoder) runs once over its whole input and keeps none.
/// The failure is the operation that overflowed (`a * b`).
@_specialize(where N == Int)
func costRule<N: RuleNumber>(_ op: OpKind, bias: Bool, cached: Bool, _ r: RuleShape<N>) -> Result<RuleCost<N>, RuleOverflow> {
  var cost = RuleCost<N>()
  if op == .input || r.elided { return .success(cost) }
  func fail(_ operation: String?) -> Result<RuleCost<N>, RuleOverflow> { .failure(RuleOverflow(operation: operation ?? "")) }
  var weightCount: N = .constant(0)
  var q: N = .constant(0), k: N = .constant(0), v: N = .constant(0), o: N = .constant(0)
  for (kind, shape) in ruleParameterShapes(op, bias: bias, r) {
    let (n, overflow) = shape.ruleProduct()
    guard let n else { return fail(overflow) }
    switch kind {
    case .weight: weightCount = n
    case .wq: q = n
    case .wk: k = n
    case .wv: v = n
    case .wo: o = n
    case .bias, .gamma, .beta, .mean, .variance, .bq, .bk, .bv, .bo: break
    }
    if kind == .weight && r.tiedWeight { continue }
    if kind.isLearnable {
      guard let sum = cost.params.plus(n) else { return fail("\(cost.params) + \(n)") }
      cost.params = sum
    } else {
      guard let sum = cost.buffers.plus(n) else { return fail("\(cost.buffers) + \(n)") }
      cost.buffers = sum
    }
  }
  func product(_ values: [N]) -> (N?, String?) { values.ruleProduct() }
  switch op {
  case .conv, .dwconv, .pwconv, .deconv:
    let (spatial, overflow) = product(op == .deconv ? r.inputSpatial : Array(r.shape.dropLast()))
    guard let spatial else { return fail(overflow) }
    guard let macs = weightCount.times(spatial) else { return fail("\(weightCount) * \(spatial)") }
    cost.macs = macs
  case .fc:
    cost.macs = weightCount
  case .linear, .router:
    let (positions, overflow) = product(Array(r.shape.dropLast()))
    guard let positions else { return fail(overflow) }
    guard let macs = weightCount.times(positions) else { return fail("\(weightCount) * \(positions)") }
    cost.macs = macs
  case .attention:
    let t = r.shape[0], s = r.memoryLength
    let (square, overflow) = product([.constant(2), r.heads, t, s, r.headDim])
    guard let square else { return fail(overflow) }
    guard let queries = q.plus(o)?.times(t), let keys = k.plus(v)?.times(s), let macs = queries.plus(keys)?.plus(square) else {
      return fail("the attention's MACs")
    }
    cost.macs = macs
    let (cache, cacheOverflow) = product([.constant(2), r.kvHeads, r.headDim, s])
    guard let cache else { return fail(cacheOverflow) }
    if cached { cost.kvCache = cache.normalized }
  case .input, .maxpool, .avgpool, .gap, .gmp, .flatten, .bn, .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .identity,
    .leakyrelu, .dropout, .add, .concat, .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid, .droppath, .layerscale, .embed,
    .posembed, .typeembed, .clstoken, .tokens, .take, .upsample, .pad, .shuffle, .mul, .moe, .slice:
    break
  }
  let (activations, overflow) = r.shape.ruleProduct()
  guard let activations else { return fail(overflow) }
  cost.activations = activations
  cost.activeParams = cost.params
  cost.activeMacs = cost.macs
  if r.experts.known != 1 {
    guard let p = cost.params.times(r.experts), let ap = cost.params.times(r.activeExperts), let b = cost.buffers.times(r.experts),
      let m = cost.macs.times(r.experts), let am = cost.macs.times(r.activeExperts),
      let act = cost.activations.times(r.activeExperts)
    else { return fail("the experts' figures") }
    (cost.params, cost.activeParams, cost.buffers, cost.macs, cost.activeMacs, cost.activations) = (p, ap, b, m, am, act)
  }
  cost.params = cost.params.normalized
  cost.activeParams = cost.activeParams.normalized
  cost.buffers = cost.buffers.normalized
  cost.macs = cost.macs.normalized
  cost.activeMacs = cost.activeMacs.normalized
  cost.activations = cost.activations.normalized
  return .success(cost)
}

/// An arithmetic overflow in a rule, with the operation that overflowed.
struct RuleOverflow: Error {
  var operation: String
}
