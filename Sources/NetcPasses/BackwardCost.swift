import NetcIR

/// The multiply-accumulates of a backward pass, per node: the input's gradient and the
/// weights' gradient. A conv or linear layer costs its forward MACs for each (dL/dx is the
/// output's gradient through the transposed weights, dL/dW the output's gradient against
/// the input); attention its projections' MACs for each, and twice its two products
/// (QKᵀ and attention x V) for the gradients of both factors. A layer reading the network's
/// input computes no input gradient (nothing needs it), as autograd skips it. Every other
/// op costs none, as in the forward count. A mixture's experts count the experts each token
/// is routed to (the active MACs), forward and backward: a training step runs no others.
public struct BackwardCost: Sendable {
  /// Per node, the MACs of its input's gradient and of its weights'.
  public var input: [Int], weights: [Int]
  /// Their sums.
  public var totalInput: Int, totalWeights: Int
  /// Forward plus backward: the MACs of one training step.
  public var step: Int
}

/// The backward MACs of `graph` from its forward `costs`, counted at `batch`. Nil on overflow.
public func backwardCost(_ graph: Graph, _ shapes: Shapes, _ costs: Costs, batch: Int) -> BackwardCost? {
  var input = Array(repeating: 0, count: graph.nodes.count)
  var weights = input
  // Whether a node's value depends on the network's input only through no weighted op:
  // views of the input itself need no gradient.
  var needsNoGradient = Array(repeating: false, count: graph.nodes.count)
  needsNoGradient[0] = true
  var totals = (input: 0, weights: 0)
  for node in graph.nodes where node.id > 0 {
    let id = node.id
    // A mixture's experts run for the tokens routed to them, in training as at inference.
    let macs = costs.nodes[id].activeMacs
    let fromInput = node.inputs.allSatisfy { needsNoGradient[$0] }
    // A parameter-free op on values that need no gradient makes another (token ids, a
    // view or pad of the input); a weighted one's output needs it.
    needsNoGradient[id] = fromInput && !node.op.hasWeights
    var dx = fromInput ? 0 : macs
    var dw = node.op.hasWeights ? macs : 0
    if node.op == .attention {
      let r = shapes.nodes[id]
      let t = shapes[id].first ?? 0
      var products = 2
      for f in [r.heads, t, r.memoryLength, r.headDim, batch] {
        let (p, o) = products.multipliedReportingOverflow(by: f)
        if o { return nil }
        products = p
      }
      let batched = products
      let projections = macs - batched
      dw = projections
      let (twice, o1) = batched.multipliedReportingOverflow(by: 2)
      let (sum, o2) = (fromInput ? 0 : projections).addingReportingOverflow(twice)
      if o1 || o2 { return nil }
      dx = sum
    }
    input[id] = dx
    weights[id] = dw
    let (a, o1) = totals.input.addingReportingOverflow(dx)
    let (b, o2) = totals.weights.addingReportingOverflow(dw)
    if o1 || o2 { return nil }
    totals = (a, b)
  }
  let (back, o1) = totals.input.addingReportingOverflow(totals.weights)
  let (step, o2) = back.addingReportingOverflow(costs.total.activeMacs)
  if o1 || o2 { return nil }
  return BackwardCost(input: input, weights: weights, totalInput: totals.input, totalWeights: totals.weights, step: step)
}
