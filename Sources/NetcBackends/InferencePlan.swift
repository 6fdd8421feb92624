import NetcIR
import NetcPasses

/// The output-only forward pass (`Interpreter.output`) as steps, with the inference-time
/// fusions ONNX Runtime also makes (`FusionPlan`: BN folded into the conv, then a residual
/// ADD, then a ReLU or ReLU6, which the C kernels' stores apply). The fused nodes'
/// values never exist, so this is only for the pass that returns the output alone:
/// `forward` (every activation, for `--trace` and gradients) and `backward` stay unfused.
struct InferencePlan<T: TensorScalar>: Sendable {
  /// A conv with what was fused into it.
  struct FusedConv: Sendable {
    /// The packed weights, scaled by a folded BN.
    var packed: PackedConv<T>
    /// The conv's bias, or the folded BN's shift (plus the bias scaled).
    var bias: [T]?
    /// A fused ADD's other input.
    var residual: Int?
    var activation: FusedActivation
  }

  /// Evaluates `node` and produces the value of `output` (the last node fused into it, or
  /// `node` itself).
  struct Step: Sendable {
    var node: Int
    var output: Int
    var conv: FusedConv?
    /// The nodes fused into `node`, in order (`output` is the last).
    var fused: [Int] = []
    /// The distinct nodes whose values the step reads.
    var reads: [Int]
  }

  var steps: [Step] = []
  /// Per node id, the index of the last step that reads its value (-1 when none does).
  var lastRead: [Int]

  /// Plans `graph`; `packed` are the convs' packed weights.
  init(graph: Graph, shapes: Shapes, parameters: [LayerParameters<T>?], geometry: [ConvGeometry?], packed: [PackedConv<T>?]) {
    let fusion = FusionPlan(
      graph: graph, capabilities: .init(residual: true, activationAfterFC: false, activation: { FusedActivation($0) != nil }))
    // Nodes whose value is their input's (`Interpreter.outputImpl` shares the buffer).
    func isAlias(_ id: Int) -> Bool { graph.nodes[id].op.traits.contains(.aliasAtInference) }
    for node in graph.layers where fusion.fusedInto[node.id] == nil {
      guard node.op.isConvolution, let pk = packed[node.id], let g = geometry[node.id] else {
        steps.append(Step(node: node.id, output: node.id, conv: nil, fused: [], reads: Array(Set(node.inputs)).sorted()))
        continue
      }
      var conv = FusedConv(packed: pk, bias: parameters[node.id]?.bias?.data, residual: nil, activation: .none)
      let e = fusion.epilogues[node.id] ?? FusionPlan.Epilogue(head: node.id)
      if let id = e.bn {
        // bn(conv + b) = scale * conv + (scale * b + shift)
        let (scale, shift) = batchNormAffine(graph.nodes[id], parameters[id]!)
        conv.packed = pk.scaled(by: scale, geometry: g)
        conv.bias = conv.bias.map { b in (0..<b.count).map { b[$0] * scale[$0] + shift[$0] } } ?? shift
      } else {
        // Pack now, not in the first call of `output`.
        _ = pk.panels
      }
      conv.residual = e.residual?.other
      if let id = e.activation, let activation = FusedActivation(graph.nodes[id].op) { conv.activation = activation }
      let reads = Array(Set([node.inputs[0]] + (conv.residual.map { [$0] } ?? []))).sorted()
      steps.append(Step(node: node.id, output: e.output, conv: conv, fused: e.fused, reads: reads))
    }
    // Drop alias steps nothing reads any more (an identity shortcut whose ADD was fused).
    var needed: Set<Int> = [graph.outputID]
    steps = steps.reversed().filter { step in
      if step.conv == nil && isAlias(step.node) && !needed.contains(step.output) { return false }
      needed.formUnion(step.reads)
      return true
    }.reversed()
    lastRead = Array(repeating: -1, count: graph.nodes.count)
    for (s, step) in steps.enumerated() { for i in step.reads { lastRead[i] = s } }
  }
}
