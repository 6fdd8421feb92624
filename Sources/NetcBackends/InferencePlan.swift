import NetcIR
import NetcPasses

/// The output-only forward pass (`Interpreter.output`) as steps, with the inference-time
/// fusions ONNX Runtime also makes: a BN whose only input is a conv and which is that
/// conv's only reader is folded into the conv's weights and bias; then an ADD that is the
/// only reader, whose other input is computed before the conv, becomes the conv's residual;
/// then a ReLU or ReLU6 that is the only reader becomes its activation. The fused nodes'
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

  /// Plans `graph`; `packed` are the convs' packed weights and `bnAffine` a BN's scale and shift.
  init(
    graph: Graph, shapes: Shapes, parameters: [LayerParameters<T>?], geometry: [ConvGeometry?],
    packed: [PackedConv<T>?], bnAffine: (Node) -> (scale: [T], shift: [T])
  ) {
    var readers = Array(repeating: [Int](), count: graph.nodes.count)
    for node in graph.nodes { for i in node.inputs { readers[i].append(node.id) } }
    var fused = Set<Int>()
    // The node that alone reads `id`'s value, when there is exactly one and it can be fused.
    func soleReader(_ id: Int) -> Node? {
      guard id != graph.outputID, readers[id].count == 1 else { return nil }
      let n = graph.nodes[readers[id][0]]
      return shapes.nodes[n.id].elided || fused.contains(n.id) ? nil : n
    }
    // Nodes whose value is their input's (`Interpreter.outputImpl` shares the buffer).
    func isAlias(_ id: Int) -> Bool {
      let n = graph.nodes[id]
      return n.op != .input && (shapes.nodes[id].elided || n.op.traits.contains(.aliasAtInference))
    }
    // The node whose buffer holds `id`'s value.
    func source(_ id: Int) -> Int {
      var i = id
      while isAlias(i) { i = graph.nodes[i].inputs[0] }
      return i
    }
    for node in graph.layers where !fused.contains(node.id) {
      guard node.op.isConvolution, !shapes.nodes[node.id].elided, let pk = packed[node.id], let g = geometry[node.id] else {
        steps.append(Step(node: node.id, output: node.id, conv: nil, fused: [], reads: Array(Set(node.inputs)).sorted()))
        continue
      }
      var conv = FusedConv(packed: pk, bias: parameters[node.id]?.bias?.data, residual: nil, activation: .none)
      var output = node.id
      var fusedHere: [Int] = []
      if let bn = soleReader(output), bn.op == .bn {
        // bn(conv + b) = scale * conv + (scale * b + shift)
        let (scale, shift) = bnAffine(bn)
        conv.packed = pk.scaled(by: scale, geometry: g)
        conv.bias = conv.bias.map { b in (0..<b.count).map { b[$0] * scale[$0] + shift[$0] } } ?? shift
        output = bn.id
        fused.insert(bn.id)
        fusedHere.append(bn.id)
      } else {
        // Pack now, not in the first call of `output`.
        _ = pk.panels
      }
      if let add = soleReader(output), add.op == .add, add.inputs.count == 2,
        add.inputs.filter({ $0 == output }).count == 1
      {
        // ResNet's identity shortcut is an elided projection after the body: its value
        // is the block input's, which exists before the body's convs.
        let other = source(add.inputs[0] == output ? add.inputs[1] : add.inputs[0])
        if other < node.id {
          conv.residual = other
          output = add.id
          fused.insert(add.id)
          fusedHere.append(add.id)
        }
      }
      if let act = soleReader(output), let activation = FusedActivation(act.op) {
        conv.activation = activation
        output = act.id
        fused.insert(act.id)
        fusedHere.append(act.id)
      }
      let reads = Array(Set([node.inputs[0]] + (conv.residual.map { [$0] } ?? []))).sorted()
      steps.append(Step(node: node.id, output: output, conv: conv, fused: fusedHere, reads: reads))
    }
    // Drop alias steps nothing reads any more (an elided shortcut whose ADD was fused).
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
