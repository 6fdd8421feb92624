import NetcIR

/// Which nodes fold into which conv or fc store, for both backends: a BN whose only reader
/// path starts at a conv folds into its weights and bias; then an ADD whose other input is
/// computed before the conv becomes the store's residual; then an activation becomes the
/// store's epilogue. Each candidate must be the only reader of what precedes it (and not
/// the network's output), so the fused values are never needed. What a backend's kernels
/// can apply is its `Capabilities`; the decisions are made here once.
struct FusionPlan: Sendable {
  /// What a backend's stores can apply.
  struct Capabilities: Sendable {
    /// Fold a residual ADD into a conv's store.
    var residual: Bool
    /// Give an fc's store an activation too (convs always can).
    var activationAfterFC: Bool
    /// The activations the store applies (a subset of the `fusableActivation` group).
    var activation: @Sendable (OpKind) -> Bool
  }

  /// A conv or fc with what folds into it.
  struct Epilogue: Sendable {
    /// The conv or fc.
    var head: Int
    /// The BN folded into a conv's weights.
    var bn: Int?
    /// The fused ADD and its other input (whose value exists before the head runs).
    var residual: (add: Int, other: Int)?
    /// The activation applied on the way out.
    var activation: Int?

    /// The fused nodes after the head, in order.
    var fused: [Int] { [bn, residual?.add, activation].compactMap { $0 } }
    /// The node whose value the store writes.
    var output: Int { fused.last ?? head }
  }

  /// Per head id, its epilogue (heads with nothing fused have none).
  var epilogues: [Int: Epilogue] = [:]
  /// Per fused node id, the head it folds into.
  var fusedInto: [Int: Int] = [:]

  /// Plans `graph` for a backend with `capabilities`.
  init(graph: Graph, capabilities: Capabilities) {
    var readers = Array(repeating: [Int](), count: graph.nodes.count)
    for node in graph.nodes { for i in node.inputs { readers[i].append(node.id) } }
    // The node that alone reads `id`'s value, when it may fuse.
    func soleReader(_ id: Int) -> Node? {
      guard id != graph.outputID, readers[id].count == 1 else { return nil }
      let n = graph.nodes[readers[id][0]]
      return fusedInto[n.id] == nil ? n : nil
    }
    // The node whose value `id`'s is (aliases share their input's).
    func source(_ id: Int) -> Int {
      var i = id
      while graph.nodes[i].op.traits.contains(.aliasAtInference) { i = graph.nodes[i].inputs[0] }
      return i
    }
    for node in graph.layers where fusedInto[node.id] == nil {
      let isConv = node.op.isConvolution
      guard isConv || node.op == .fc else { continue }
      var e = Epilogue(head: node.id)
      if isConv, let bn = soleReader(e.output), bn.op == .bn {
        e.bn = bn.id
        fusedInto[bn.id] = node.id
      }
      if isConv, capabilities.residual, let add = soleReader(e.output), add.op == .add, add.inputs.count == 2,
        add.inputs.filter({ $0 == e.output }).count == 1
      {
        // ResNet's identity shortcut is an identity after the body: its value is the block
        // input's, which exists before the body's convs.
        let other = source(add.inputs[0] == e.output ? add.inputs[1] : add.inputs[0])
        if other < node.id {
          e.residual = (add.id, other)
          fusedInto[add.id] = node.id
        }
      }
      if isConv || capabilities.activationAfterFC, let act = soleReader(e.output),
        act.op.traits.contains(.fusableActivation), capabilities.activation(act.op)
      {
        e.activation = act.id
        fusedInto[act.id] = node.id
      }
      if !e.fused.isEmpty { epilogues[node.id] = e }
    }
  }
}
