import NetcIR

/// A node's figures in a rule's numbers.
struct RuleCost<N: RuleNumber> {
  var params: N = .constant(0)
  var buffers: N = .constant(0)
  var macs: N = .constant(0)
  var activations: N = .constant(0)
}

/// The cost rule of every op, written once, per example: parameters and buffers are the
/// elements of its parameter tensors (learnable or not); MACs are conv
/// `prod(weight) * prod(output spatial extents)` and fc `prod(weight)`; activations are the
/// elements of the output. The failure is the operation that overflowed (`a * b`).
func costRule<N: RuleNumber>(_ op: OpKind, bias: Bool, _ r: RuleShape<N>) -> Result<RuleCost<N>, RuleOverflow> {
  var cost = RuleCost<N>()
  if op == .input || r.elided { return .success(cost) }
  var weightCount: N = .constant(0)
  for (kind, shape) in ruleParameterShapes(op, bias: bias, r) {
    let (n, overflow) = shape.ruleProduct()
    guard let n else { return .failure(RuleOverflow(operation: overflow ?? "")) }
    if kind == .weight { weightCount = n }
    if kind.isLearnable {
      guard let sum = cost.params.plus(n) else { return .failure(RuleOverflow(operation: "\(cost.params) + \(n)")) }
      cost.params = sum
    } else {
      guard let sum = cost.buffers.plus(n) else { return .failure(RuleOverflow(operation: "\(cost.buffers) + \(n)")) }
      cost.buffers = sum
    }
  }
  switch op {
  case .conv, .dwconv, .pwconv:
    let (spatial, overflow) = Array(r.shape.dropLast()).ruleProduct()
    guard let spatial else { return .failure(RuleOverflow(operation: overflow ?? "")) }
    guard let macs = weightCount.times(spatial) else { return .failure(RuleOverflow(operation: "\(weightCount) * \(spatial)")) }
    cost.macs = macs
  case .fc:
    cost.macs = weightCount
  case .input, .maxpool, .avgpool, .gap, .gmp, .flatten, .bn, .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .identity,
    .leakyrelu, .dropout, .add, .concat:
    break
  }
  let (activations, overflow) = r.shape.ruleProduct()
  guard let activations else { return .failure(RuleOverflow(operation: overflow ?? "")) }
  cost.activations = activations
  cost.params = cost.params.normalized
  cost.buffers = cost.buffers.normalized
  cost.macs = cost.macs.normalized
  cost.activations = cost.activations.normalized
  return .success(cost)
}

/// An arithmetic overflow in a rule, with the operation that overflowed.
struct RuleOverflow: Error {
  var operation: String
}
