import NetcIR

/// A mixture's routed sum, as Mixtral routes (transformers' `MixtralTopKRouter` and
/// `MixtralExperts`): per position the router's `top` largest logits pick the experts,
/// their weights are the softmax over the picked logits (the softmax over all experts
/// renormalised over the picked ones, which is the same), and the output is the weighted
/// sum of the picked experts' outputs at that position. Ties go to the lower expert.
///
/// Every expert's output arrives computed at every position (`[E][positions][width]`): the
/// interpreter runs each expert on the whole input, which is what the routed experts
/// compute at their positions for any expert, position-wise or not.
enum MixtureOfExperts {
  /// The experts of one position and their weights, from its `experts` logits.
  static func route<T: TensorScalar>(_ logits: UnsafeBufferPointer<T>, top: Int) -> [(expert: Int, weight: T)] {
    let picked = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }.prefix(top)
    let m = logits[picked.first!]
    var w = picked.map { T.exp(logits[$0] - m) }
    let s = w.reduce(0, +)
    for k in w.indices { w[k] /= s }
    return zip(picked, w).map { ($0, $1) }
  }

  /// The routed sum, `[positions][width]`.
  static func forward<T: TensorScalar>(logits: [T], outputs: [T], experts: Int, top: Int, width: Int) -> [T] {
    let positions = logits.count / experts, stride = positions * width
    var y = [T](repeating: 0, count: stride)
    logits.withUnsafeBufferPointer { lb in
      for p in 0..<positions {
        for (e, w) in route(UnsafeBufferPointer(rebasing: lb[(p * experts)..<(p * experts + experts)]), top: top) {
          let base = e * stride + p * width
          for c in 0..<width { y[p * width + c] += w * outputs[base + c] }
        }
      }
    }
    return y
  }

  /// The gradients of the router's logits and of every expert's output (zero where an
  /// expert was not picked). With g_k = dy · out_k at a position, the softmax over the
  /// picked logits gives dlogit_k = w_k (g_k - sum_j w_j g_j).
  static func backward<T: TensorScalar>(logits: [T], outputs: [T], _ dy: [T], experts: Int, top: Int, width: Int) -> (
    logits: [T], outputs: [T]
  ) {
    let positions = logits.count / experts, stride = positions * width
    var dl = [T](repeating: 0, count: logits.count), dout = [T](repeating: 0, count: outputs.count)
    logits.withUnsafeBufferPointer { lb in
      for p in 0..<positions {
        let routes = route(UnsafeBufferPointer(rebasing: lb[(p * experts)..<(p * experts + experts)]), top: top)
        var g = [T](repeating: 0, count: routes.count)
        for (k, (e, w)) in routes.enumerated() {
          let base = e * stride + p * width
          for c in 0..<width {
            g[k] += dy[p * width + c] * outputs[base + c]
            dout[base + c] = w * dy[p * width + c]
          }
        }
        var mean: T = 0
        for (k, route) in routes.enumerated() { mean += route.weight * g[k] }
        for (k, (e, w)) in routes.enumerated() { dl[p * experts + e] = w * (g[k] - mean) }
      }
    }
    return (dl, dout)
  }
}

extension Interpreter {
  /// How many experts stand behind node `id`: its mixture's count inside an expert, else 1.
  /// Such a node's value is every expert's, `[E]` followed by its shape.
  func expertCount(_ id: Int) -> Int { shapes.nodes[id].experts }

  /// Expert `k`'s part of node `id`'s value (the whole value outside experts, or in a
  /// mixture of fewer than k + 1 experts, whose layers expert k does not run).
  func expertPart(_ value: Tensor<T>, of id: Int, _ k: Int) -> Tensor<T> {
    let e = expertCount(id)
    guard e > 1, k < e else { return value }
    let n = value.count / e
    return Tensor(shape: Array(value.shape.dropFirst()), data: Array(value.data[(k * n)..<(k * n + n)]))
  }

  /// Per expert k, this interpreter with each expert node's parameters (and packed convs)
  /// replaced by expert k's: the bound tensors carry the experts on a leading axis.
  func expertViews() -> [Interpreter<T>] {
    let most = graph.layers.map { expertCount($0.id) }.max() ?? 1
    guard most > 1 else { return [] }
    return (0..<most).map { k in
      var view = self
      for node in graph.layers where expertCount(node.id) > k {
        guard let p = parameters[node.id] else { continue }
        var mine = LayerParameters<T>()
        for kind in ParameterKind.allCases {
          if let t = p[kind] { mine[kind] = expertPart(t, of: node.id, k) }
        }
        view.parameters[node.id] = mine
        if node.op.isConvolution || node.op == .deconv, let w = mine.weight, let g = geometry[node.id] {
          view.packed[node.id] = PackedConv(weight: w.data, geometry: g)
        }
      }
      return view
    }
  }

  /// The mixture's routed sum: inputs are the router's logits, every expert's output and
  /// the mixture's input (which reaches the output through the router and experts only).
  func mixtureForward(_ node: Node, _ inputs: [Tensor<T>]) -> [T] {
    let (e, top) = routing(node)
    return MixtureOfExperts.forward(
      logits: inputs[0].data, outputs: inputs[1].data, experts: e, top: top, width: shapes[node.id].last!)
  }

  func mixtureBackward(_ node: Node, _ values: [Tensor<T>], _ dy: [T]) -> [[T]] {
    let (e, top) = routing(node)
    let (dl, dout) = MixtureOfExperts.backward(
      logits: values[node.inputs[0]].data, outputs: values[node.inputs[1]].data, dy, experts: e, top: top,
      width: shapes[node.id].last!)
    return [dl, dout, [T](repeating: 0, count: values[node.inputs[2]].count)]
  }

  /// The experts and the experts per position, from the mixture's router.
  func routing(_ node: Node) -> (experts: Int, top: Int) {
    let router = graph.nodes[node.inputs[0]]
    return (shapes.nodes[router.id].outChannels, router.attributes.integer(.topK)?.expr.constant ?? 1)
  }
}

/// One layer's parameter gradients for all its experts, each tensor on a leading axis of
/// experts (the layout its parameters are bound in).
func stackedExperts<T: TensorScalar>(_ parts: [LayerParameters<T>?]) -> LayerParameters<T>? {
  guard let first = parts.first ?? nil else { return nil }
  var out = LayerParameters<T>()
  for kind in ParameterKind.allCases {
    guard let t = first[kind] else { continue }
    out[kind] = Tensor(shape: [parts.count] + t.shape, data: parts.flatMap { $0?[kind]?.data ?? [] })
  }
  return out
}
