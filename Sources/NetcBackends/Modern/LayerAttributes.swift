import NetcIR

/// The integer attributes the interpreter's newer kernels read from a node, as the shape
/// rule read them (the graph `run` executes has its vars bound).
extension Interpreter {
  /// `SHUFFLE`'s groups, a `slice`'s parts.
  func partCount(_ node: Node) -> Int { node.attributes.count?.expr.constant ?? 1 }

  /// Gradients of one layer, by kind.
  func parameterGradients(_ tensors: [ParameterKind: Tensor<T>]) -> LayerParameters<T> {
    var lg = LayerParameters<T>()
    for (kind, t) in tensors { lg[kind] = t }
    return lg
  }
}

extension Interpreter {
  /// A node's attention: its shapes, options and projections.
  func attention(_ node: Node) -> Attention<T> {
    let r = shapes.nodes[node.id], p = parameters[node.id]!
    var a = Attention(
      length: r.shape[0], memoryLength: r.memoryLength, width: r.inChannels, memoryWidth: r.memoryChannels, heads: r.heads,
      kvHeads: r.kvHeads, dim: r.headDim, causal: node.attributes.causal, rotary: node.attributes.rotary, theta: node.attributes.ropeTheta,
      wq: linearWeight(node.id, .wq), wk: linearWeight(node.id, .wk), wv: linearWeight(node.id, .wv), wo: linearWeight(node.id, .wo),
      bq: p.projections[.bq]?.data, bk: p.projections[.bk]?.data, bv: p.projections[.bv]?.data, bo: p.projections[.bo]?.data)
    a.threads = threads
    return a
  }
}
