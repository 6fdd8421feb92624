import NetcIR

/// Inference activation memory: every value's bytes and lifetime, with one step per node
/// in graph order (step 0 writes the input). A layer reads its inputs and writes its
/// output in a buffer of its own, so both are live at its step; an input stays live until
/// its last reader (a residual's shortcut, a concat's branches); the output stays to the
/// end. Ops that pass their input through at inference (identity, dropout, drop path, an
/// elided projection) own no buffer: they extend their input's lifetime.
public struct ActivationMemory: Sendable {
  /// One buffer.
  public struct Tensor: Hashable, Sendable {
    /// The node that writes it.
    public var node: Int
    /// Its bytes (unrounded) and the steps it is live.
    public var lifetime: TensorLifetime
    /// Its offset in the planned arena.
    public var offset: Int
  }

  /// The buffers, in the order their nodes run.
  public var tensors: [Tensor]
  /// Per node, the index in `tensors` of the buffer holding its value.
  public var buffer: [Int]
  /// Per step, the bytes live while it runs.
  public var live: [Int]
  /// Every buffer's bytes added up: the memory without reuse.
  public var sum: Int
  /// The most bytes live at one step, and that step: no placement needs less.
  public var lowerBound: Int, lowerBoundStep: Int
  /// The arena the planner lays out (offsets rounded to `alignment`).
  public var peak: Int
  /// The offsets' alignment in bytes.
  public var alignment: Int
  /// Bytes per element.
  public var storage: StorageType
}

/// The offsets' alignment in bytes: a 64-byte cache line.
public let activationAlignment = 64

/// Plans the activations of `graph` at `batch` in `storage` (token ids as int64, as
/// PyTorch keeps them). Nil when a figure overflows 64-bit integers.
public func planActivationMemory(
  _ graph: Graph, _ shapes: Shapes, batch: Int, storage: StorageType, alignment: Int = activationAlignment
) -> ActivationMemory? {
  let n = graph.nodes.count
  var buffer = Array(repeating: -1, count: n)
  var lifetimes: [TensorLifetime] = []
  var owners: [Int] = []
  var sum = 0
  for node in graph.nodes {
    let id = node.id
    if id > 0 && node.op.traits.contains(.aliasAtInference), let source = node.inputs.first {
      buffer[id] = buffer[source]
      continue
    }
    var elements = batch
    for extent in shapes[id] {
      let (e, o) = elements.multipliedReportingOverflow(by: extent)
      if o { return nil }
      elements = e
    }
    let (bytes, o1) = elements.multipliedReportingOverflow(by: graph.nodes[id].op == .input && graph.isTokenInput(id) ? 8 : storage.bytes)
    let (s, o2) = sum.addingReportingOverflow(bytes)
    if o1 || o2 { return nil }
    sum = s
    buffer[id] = lifetimes.count
    lifetimes.append(TensorLifetime(size: bytes, first: id, last: id))
    owners.append(id)
  }
  for node in graph.nodes {
    for input in node.inputs where lifetimes[buffer[input]].last < node.id { lifetimes[buffer[input]].last = node.id }
  }
  lifetimes[buffer[graph.outputID]].last = n - 1
  guard let live = OffsetPlanner.liveSizes(lifetimes), let planned = OffsetPlanner.plan(lifetimes, alignment: alignment)
  else { return nil }
  var bound = (bytes: 0, step: 0)
  for (step, bytes) in live.enumerated() where bytes > bound.bytes { bound = (bytes, step) }
  let tensors = lifetimes.indices.map { ActivationMemory.Tensor(node: owners[$0], lifetime: lifetimes[$0], offset: planned.offsets[$0]) }
  return ActivationMemory(
    tensors: tensors, buffer: buffer, live: live, sum: sum, lowerBound: bound.bytes, lowerBoundStep: bound.step,
    peak: planned.peak, alignment: alignment, storage: storage)
}
