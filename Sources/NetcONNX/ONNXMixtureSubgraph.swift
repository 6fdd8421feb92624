import NetcBackends
import NetcDiagnostics
import NetcIR
import NetcPasses

/// A mixture of experts as `netc run` computes it (transformers' MixtralSparseMoeBlock):
/// every expert on every position, each expert's layers written once per expert with its
/// part of the stacked tensors as initializers (`MIXTURE.expert.K.LAYER.KIND`), then per
/// position the router's `top` largest logits (TopK: ties to the lower index, as netc's),
/// their softmax, scattered into a dense `[..., E]` weight of zeros elsewhere, and the
/// weighted sum of the experts' outputs.
extension ONNXGraphBuilder {
  mutating func mixture(_ node: Node, _ out: String) throws(DiagnosticError) {
    let router = graph.nodes[node.inputs[0]]
    let experts = shapes.nodes[router.id].outChannels
    let top = router.attributes.integer(.topK)?.expr.constant ?? 1
    let body = graph.layers.filter { $0.id > router.id && $0.id < node.id && shapes.nodes[$0.id].experts > 1 }
    var outputs: [String] = []
    if body.isEmpty {
      // One expert, written as it is, or experts without layers (each its input).
      outputs = Array(repeating: value(node.inputs[1], .channelsLast), count: experts)
    } else {
      let prefix = String(node.name.dropLast("moe".count)) + "expert."
      for k in 0..<experts { outputs.append(try expert(k, body, prefix: prefix, output: node.inputs[1])) }
    }
    let p = node.name
    let logits = value(router.id, .channelsLast)
    step("TopK", [logits, ints("\(p).top", [top])], "\(p)/top_logits", [.int("axis", -1), .int("largest", 1), .int("sorted", 1)])
    nodes[nodes.count - 1].output.append("\(p)/picked")
    step("Softmax", ["\(p)/top_logits"], "\(p)/top_weights", [.int("axis", -1)])
    step("Shape", [logits], "\(p)/shape")
    step("ConstantOfShape", ["\(p)/shape"], "\(p)/zeros")
    step("ScatterElements", ["\(p)/zeros", "\(p)/picked", "\(p)/top_weights"], "\(p)/weights", [.int("axis", -1)])
    let axes = ints("\(p).expert_axis", [-1])
    let bounds = (0...outputs.count).map { ints("\(p).expert.\($0)", [$0]) }
    var weighted: [String] = []
    for (k, y) in outputs.enumerated() {
      let w = "\(p)/weight.\(k)"
      step("Slice", ["\(p)/weights", bounds[k], bounds[k + 1], axes], w)
      step("Mul", [w, y], "\(p)/weighted.\(k)")
      weighted.append("\(p)/weighted.\(k)")
    }
    add(weighted.count == 1 ? "Identity" : "Sum", node, weighted, out)
  }

  /// Writes expert `k`'s copy of the expert layers `body` and returns its output, channels
  /// last: each node renamed `PREFIX.K.REST`, its tensors expert k's part.
  mutating func expert(_ k: Int, _ body: [Node], prefix: String, output: Int) throws(DiagnosticError) -> String {
    let stacked = body.map { parameters[$0.id] }
    defer { for (node, p) in zip(body, stacked) { parameters[node.id] = p } }
    for node in body {
      names[node.id] = expertName(node.name, k, prefix: prefix)
      transposed[node.id] = nil
      parameters[node.id] = parameters[node.id].map { expertPart($0, k) }
    }
    for node in body {
      var copy = node
      copy.name = names[node.id]
      do { try emit(copy, reading: expertReads[node.id] ?? layouts[node.inputs[0]]) } catch {
        // The error names the spec's layer, not its copy.
        throw DiagnosticError(
          error.diagnostics.map { d in
            var d = d
            d.message = d.message.replacing("`\(copy.name)`", with: "`\(node.name)` (expert \(k))")
            return d
          })
      }
      var info = valueInfo(node.id)
      info.name = names[node.id]
      expertInfos.append(info)
    }
    return value(output, .channelsLast)
  }

  /// `PREFIX.REST` as expert k's copy, `PREFIX.K.REST`.
  func expertName(_ name: String, _ k: Int, prefix: String) -> String {
    name.hasPrefix(prefix) ? prefix + "\(k)." + name.dropFirst(prefix.count) : "\(name).\(k)"
  }

  /// Expert k's tensors: each stacked tensor's k-th slice of its leading axis.
  func expertPart(_ p: LayerParameters<Float>, _ k: Int) -> LayerParameters<Float> {
    var mine = LayerParameters<Float>()
    for kind in ParameterKind.allCases {
      guard let t = p[kind], let e = t.shape.first, e > k else { continue }
      let n = t.count / e
      mine[kind] = Tensor(shape: Array(t.shape.dropFirst()), data: Array(t.data[(k * n)..<(k * n + n)]))
    }
    return mine
  }
}
