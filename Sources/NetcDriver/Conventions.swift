import NetcIR

/// The counting conventions a report states because the spec's layers make them matter:
/// attention's (every tool counts it differently), tied weights and mixtures' active
/// figures. One line each, in the table and in the JSON (`conventions`).
enum Conventions {
  static func lines(_ graph: Graph) -> [String] {
    var out: [String] = []
    var hasAttention = false, hasEmbedding = false
    for node in graph.layers {
      switch node.op {
      case .attention: hasAttention = true
      case .embed, .posembed, .typeembed: hasEmbedding = true
      case .input, .conv, .dwconv, .pwconv, .deconv, .maxpool, .avgpool, .gap, .gmp, .fc, .linear, .flatten, .bn, .layernorm, .rmsnorm,
        .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .silu, .hardswish, .hardsigmoid, .identity, .leakyrelu, .dropout, .droppath,
        .layerscale, .clstoken, .tokens, .take, .upsample, .pad, .shuffle, .add, .concat, .mul, .router, .moe, .slice:
        break
      }
    }
    if hasAttention {
      out.append(
        "MACs: matrix products and convolutions; attention = its 4 projections + QKᵀ and attention·V over the full T x T square (as PyTorch's eager kernel; a causal mask changes nothing)"
          + (hasEmbedding ? "; embedding lookups, softmax" : "; softmax") + ", norms and activations count 0")
    }
    let ties = graph.layers.filter { $0.attributes.tiedTo != nil }
    if !ties.isEmpty {
      let pairs = ties.map { "`\($0.name)` shares `\(graph.nodes[$0.attributes.tiedTo!].name)`'s weight" }
      out.append("tied weights are counted once: " + pairs.joined(separator: ", "))
    }
    if let router = graph.layers.first(where: { $0.op == .router }), let experts = router.attributes.count,
      let top = router.attributes.integer(.topK)
    {
      out.append(
        "mixture of experts: params and MACs count all \(experts.expr) experts; the active figures the \(top.expr) each token is routed to")
    }
    return out
  }
}
