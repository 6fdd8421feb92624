import NetcIR
import NetcPasses

/// The schedule of an emitted network: which nodes become one kernel call (a conv with
/// the BN folded into it and its ReLU applied on the way out, as `FusionPlan` decides for
/// both backends), which run in place, which
/// are free (identity, dropout, a flatten that moves nothing), and where every buffer lives.
struct EmitPlan {
  /// Where a value lives.
  enum Storage: Equatable {
    /// The caller's input (read only).
    case input
    /// The caller's output buffer.
    case output
    /// The arena, at this element offset.
    case arena(Int)
  }

  /// One kernel call.
  struct Step {
    /// The node the kernel computes (a conv, a pool, an add, ...).
    var node: Node
    /// The BN folded into a conv's weights, and the activation applied to its output.
    var foldedBN: Node?
    var activation: Node?
    /// Values read, and the value written.
    var inputs: [Int]
    var output: Int
    /// Whether the step writes over its first input.
    var inPlace = false

    /// The nodes this step computes, in order.
    var nodes: [Node] { [node] + [foldedBN, activation].compactMap { $0 } }
  }

  var steps: [Step] = []
  /// Per value: its storage (filled by `place`).
  var storage: [Storage] = []
  /// The value holding the network's output.
  var outputValue = 0
  /// The arena's size in elements, and what the buffers would take without sharing.
  var arenaSize = 0
  var unsharedSize = 0

  /// Plans `graph`.
  init(graph: Graph, shapes: Shapes) {
    let n = graph.nodes.count

    // Nodes that move no data share their input's value; value ids are node ids of roots.
    var root = Array(0..<n)
    func find(_ i: Int) -> Int {
      var i = i
      while root[i] != i { i = root[i] }
      return i
    }
    // BN folds into convs, activations into conv and fc stores; no residuals.
    let fusion = FusionPlan(graph: graph, capabilities: .init(residual: false, activationAfterFC: true, activation: { _ in true }))
    var stepOfHead: [Int: Int] = [:]  // a step's node -> step index
    var steps: [Step] = []
    var lastRead = Array(repeating: -1, count: n)  // node id of the last reader, per node
    for node in graph.nodes { for i in node.inputs { lastRead[i] = max(lastRead[i], node.id) } }
    lastRead[graph.outputID] = Int.max

    /// A step for `node` (not fused): in place over its first input when the op allows it
    /// and nothing reads that input later.
    func makeStep(_ node: Node) -> Step {
      let inputs = node.inputs.map(find)
      var step = Step(node: node, inputs: inputs, output: node.id)
      let canOverwrite = node.op.traits.contains(.inPlace)
      if canOverwrite, let v = inputs.first, v != 0, lastRead[v] == node.id {
        root[node.id] = v
        lastRead[v] = lastRead[node.id]
        step.output = v
        step.inPlace = true
      }
      return step
    }

    for node in graph.layers {
      let input = node.inputs.first ?? 0
      let inShape = shapes[input]
      let trivialFlatten = node.op == .flatten && (inShape.count <= 1 || inShape.last! == 1 || inShape.dropLast().reduce(1, *) == 1)
      if node.op.traits.contains(.aliasAtInference) || trivialFlatten {
        // The alias extends the life of the value it shares.
        let v = find(input)
        root[node.id] = v
        lastRead[v] = max(lastRead[v], lastRead[node.id])
        continue
      }
      // Fused into the step of its head: its value is the head's.
      if let head = fusion.fusedInto[node.id], let s = stepOfHead[head] {
        if node.op == .bn { steps[s].foldedBN = node } else { steps[s].activation = node }
        let v = find(input)
        root[node.id] = v
        lastRead[v] = max(lastRead[v], lastRead[node.id])
        continue
      }
      steps.append(makeStep(node))
      stepOfHead[node.id] = steps.count - 1
    }
    self.steps = steps
    outputValue = find(graph.outputID)

    // Buffers: one per value a step writes (first write .. last read). Window ops read their
    // input in place (border/interior regions), so no step needs scratch.
    var stepOfNode = Array(repeating: 0, count: n)
    for (k, step) in steps.enumerated() { for m in step.nodes { stepOfNode[m.id] = k } }
    var valueBuffer: [Int: Int] = [:]
    var buffers: [BufferPlanner.Buffer] = []
    var owners: [Int] = []  // per buffer: value id
    for (k, step) in steps.enumerated() {
      let v = step.output
      if v == outputValue || valueBuffer[v] != nil { continue }
      let last = lastRead[v] == Int.max ? steps.count : (lastRead[v] < 0 ? k : stepOfNode[lastRead[v]])
      valueBuffer[v] = buffers.count
      buffers.append(.init(size: shapes[v].reduce(1, *), first: k, last: max(k, last)))
      owners.append(v)
    }
    let (offsets, peak) = BufferPlanner.plan(buffers)
    arenaSize = peak
    unsharedSize = buffers.reduce(0) { $0 + ($1.size + BufferPlanner.alignment - 1) / BufferPlanner.alignment * BufferPlanner.alignment }
    storage = Array(repeating: .input, count: n)
    for (b, owner) in owners.enumerated() { storage[owner] = .arena(offsets[b]) }
    if outputValue != 0 { storage[outputValue] = .output }
  }

  /// The 3-D geometry of a windowed node.
  static func geometry(_ node: Node, _ shapes: Shapes) -> ConvGeometry? {
    let r = shapes.nodes[node.id]
    guard node.op.isWindowed, let window = r.window, let input = node.inputs.first else { return nil }
    let inC = node.op.isConvolution ? r.inChannels : shapes[input].last!
    let outC = node.op.isConvolution ? r.outChannels : inC
    return ConvGeometry(
      inShape: shapes[input], outShape: r.shape, window: window,
      inChannels: inC, outChannels: outC, groups: node.op.isConvolution ? r.groups : 1)
  }
}
