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
    /// Whether a fused conv writes its output over its residual, which nothing reads
    /// afterwards: the residual's lines are in cache, where a fresh buffer's come from
    /// memory before they are written.
    var overResidual = false
  }

  var steps: [Step] = []
  /// Per node id, the index of the last step that reads its value (-1 when none does).
  var lastRead: [Int]
  /// The steps as the planner sees them: step 0 is the caller's input, read in place;
  /// step s + 1 runs `steps[s]`.
  var schedule = ExecutionSchedule(steps: [])
  /// The workspace's arena, laid out by the offset planner for `schedule`: per node, the
  /// element offset of its value (-1 for the input and for values that never exist), and
  /// the arena's size in elements.
  var offsets: [Int] = [], arenaElements = 0
  /// The planner's figures for `schedule` (bytes of `T`).
  var memory: ActivationMemory?

  /// Plans `graph`; `packed` are the convs' packed weights.
  init(graph: Graph, shapes: Shapes, parameters: [LayerParameters<T>?], geometry: [ConvGeometry?], packed: [PackedConv<T>?]) {
    let fusion = FusionPlan(
      graph: graph, capabilities: .init(residual: true, activationAfterFC: false, activation: { FusedActivation($0) != nil }))
    // Nodes whose value is their input's (`Interpreter.outputImpl` shares the buffer).
    func isAlias(_ id: Int) -> Bool { graph.nodes[id].op.traits.contains(.aliasAtInference) }
    // An expert's convs are not packed (each expert packs its own), so nothing fuses into
    // them: the layers after one are steps of their own.
    for node in graph.layers where fusion.fusedInto[node.id].map({ packed[$0] == nil }) ?? true {
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
    decideOverResidual(graph, geometry)
    schedule = scheduled(graph)
    planArena(graph, shapes)
  }

  /// Marks the fused convs that may write over their residual: nothing reads it after the
  /// conv, it is not the output or the caller's input, no other value shares its buffer
  /// then, it is not the conv's own input, and the conv's kernels finish reading each
  /// residual tile before they store over it.
  mutating func decideOverResidual(_ graph: Graph, _ geometry: [ConvGeometry?]) {
    // Per node, the node that owns the buffer holding its value; per owner, how many
    // values it holds that are still to be read.
    var owner = Array(repeating: -1, count: graph.nodes.count)
    var holders = Array(repeating: 0, count: graph.nodes.count)
    owner[0] = 0
    holders[0] = 1
    for s in steps.indices {
      let step = steps[s], node = graph.nodes[step.node]
      if let conv = step.conv, let r = conv.residual, lastRead[r] == s, r != graph.outputID, owner[r] != 0,
        holders[owner[r]] == 1, owner[r] != owner[node.inputs[0]], Kernels.writesOverResidual(geometry[node.id]!, conv.packed)
      {
        steps[s].overResidual = true
        owner[step.output] = owner[r]
      } else if step.conv == nil && graph.nodes[step.node].op.traits.contains(.aliasAtInference) {
        owner[step.output] = owner[node.inputs[0]]
      } else {
        owner[step.output] = step.output
      }
      holders[owner[step.output]] += 1
      for i in step.reads where lastRead[i] == s && i != graph.outputID { holders[owner[i]] -= 1 }
    }
  }

  /// `steps` as an `ExecutionSchedule`.
  func scheduled(_ graph: Graph) -> ExecutionSchedule {
    var out = [ExecutionSchedule.Step(value: 0, reads: [], placement: .external)]
    for step in steps {
      let node = graph.nodes[step.node]
      let placement: ExecutionSchedule.Placement
      if step.overResidual, let r = step.conv?.residual {
        placement = .over(r)
      } else if step.conv == nil && node.op.traits.contains(.aliasAtInference) {
        placement = .alias(node.inputs[0])
      } else {
        placement = .own
      }
      out.append(.init(value: step.output, reads: step.reads, placement: placement))
    }
    return ExecutionSchedule(steps: out)
  }

  /// Lays out the arena for `schedule` with the offset planner (`planActivationMemory`,
  /// as `analyze --memory`), offsets rounded to a 64-byte line.
  mutating func planArena(_ graph: Graph, _ shapes: Shapes) {
    let size = MemoryLayout<T>.stride
    // `storage` only labels the figures; the element size is the scalar's.
    let planned = planActivationMemory(
      graph, shapes, schedule, batch: 1, storage: .fp32, elementBytes: size, alignment: activationAlignment)
    // Shape inference bounds every value's elements and `run` checks the activations' bytes
    // before it builds an interpreter (`MemoryCheck`), so the planner's sums fit.
    guard let memory = planned else { preconditionFailure("the activations' bytes overflow 64 bits") }
    self.memory = memory
    offsets = Array(repeating: -1, count: graph.nodes.count)
    for id in graph.nodes.indices where memory.buffer[id] >= 0 { offsets[id] = memory.tensors[memory.buffer[id]].offset / size }
    arenaElements = (memory.peak + size - 1) / size
  }
}
