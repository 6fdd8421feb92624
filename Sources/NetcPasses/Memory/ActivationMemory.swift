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
/// PyTorch keeps them), one step per node (`ExecutionSchedule.unfused`). Nil when a figure
/// overflows 64-bit integers.
public func planActivationMemory(
  _ graph: Graph, _ shapes: Shapes, batch: Int, storage: StorageType, alignment: Int = activationAlignment
) -> ActivationMemory? {
  planActivationMemory(
    graph, shapes, .unfused(graph), batch: batch, storage: storage, elementBytes: storage.bytes,
    alignment: alignment)
}

/// Plans the activations of `graph` as `schedule` runs it: a buffer's lifetime runs from
/// the step that writes it to the last step that reads a value it holds, the output's to
/// the end. `elementBytes` is the bytes per element (`storage`'s, or a backend's scalar);
/// per node, `buffer` is -1 for a value the schedule never writes (fused away) or keeps
/// outside the arena. Nil when a figure overflows 64-bit integers.
public func planActivationMemory(
  _ graph: Graph, _ shapes: Shapes, _ schedule: ExecutionSchedule, batch: Int, storage: StorageType, elementBytes: Int,
  alignment: Int = activationAlignment
) -> ActivationMemory? {
  var buffer = Array(repeating: -1, count: graph.nodes.count)
  var lifetimes: [TensorLifetime] = []
  var owners: [Int] = []
  var sum = 0
  func bytes(_ id: Int) -> Int? {
    var elements = batch
    for extent in shapes[id] {
      let (e, o) = elements.multipliedReportingOverflow(by: extent)
      if o { return nil }
      elements = e
    }
    let (b, o) = elements.multipliedReportingOverflow(by: graph.nodes[id].op == .input && graph.isTokenInput(id) ? 8 : elementBytes)
    return o ? nil : b
  }
  for (s, step) in schedule.steps.enumerated() {
    let id = step.value
    switch step.placement {
    case .external:
      continue
    case .alias(let source):
      buffer[id] = buffer[source]
    case .over(let other):
      // The value takes the buffer of one it reads last; it may be the larger of the two.
      guard let b = bytes(id) else { return nil }
      let t = buffer[other]
      if b > lifetimes[t].size {
        let (s2, o) = sum.addingReportingOverflow(b - lifetimes[t].size)
        if o { return nil }
        sum = s2
        lifetimes[t].size = b
      }
      buffer[id] = t
    case .own:
      guard let b = bytes(id) else { return nil }
      let (s2, o) = sum.addingReportingOverflow(b)
      if o { return nil }
      sum = s2
      buffer[id] = lifetimes.count
      lifetimes.append(TensorLifetime(size: b, first: s, last: s))
      owners.append(id)
    }
  }
  for (s, step) in schedule.steps.enumerated() {
    for input in step.reads where buffer[input] >= 0 && lifetimes[buffer[input]].last < s { lifetimes[buffer[input]].last = s }
  }
  if buffer[graph.outputID] >= 0 { lifetimes[buffer[graph.outputID]].last = max(schedule.steps.count - 1, 0) }
  guard let live = OffsetPlanner.liveSizes(lifetimes), let planned = OffsetPlanner.plan(lifetimes, alignment: alignment)
  else { return nil }
  var bound = (bytes: 0, step: 0)
  for (step, bytes) in live.enumerated() where bytes > bound.bytes { bound = (bytes, step) }
  let tensors = lifetimes.indices.map { ActivationMemory.Tensor(node: owners[$0], lifetime: lifetimes[$0], offset: planned.offsets[$0]) }
  return ActivationMemory(
    tensors: tensors, buffer: buffer, live: live, sum: sum, lowerBound: bound.bytes, lowerBoundStep: bound.step,
    peak: planned.peak, alignment: alignment, storage: storage)
}
