import NetcPasses

/// The output pass's activations: one arena, laid out by the offset planner for the pass's
/// schedule (`InferencePlan.offsets`), allocated on first use and kept for the next call
/// (allocating each activation afresh cost page faults and zeroing on every layer).
/// `WorkspaceUsage` records what a pass wrote where, so `run --memory` can check the arena
/// against the planner's figure.
final class Workspace<T: TensorScalar>: @unchecked Sendable {
  private var arena: UnsafeMutableBufferPointer<T>?
  /// When recording: what the pass allocated and wrote.
  var usage: WorkspaceUsage?

  /// The arena's first element, the arena allocated (64-byte aligned, zeroed) when
  /// missing or smaller than `count` elements.
  func base(_ count: Int) -> UnsafeMutablePointer<T> {
    if let arena, arena.count >= count { return arena.baseAddress! }
    if let arena { UnsafeMutableRawPointer(arena.baseAddress!).deallocate() }
    let bytes = max(count, 1) * MemoryLayout<T>.stride
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: max(activationAlignment, MemoryLayout<T>.alignment))
    let b = UnsafeMutableBufferPointer(start: raw.bindMemory(to: T.self, capacity: max(count, 1)), count: max(count, 1))
    b.initialize(repeating: 0)
    arena = b
    usage?.allocatedElements += count
    usage?.allocations += 1
    return b.baseAddress!
  }

  deinit {
    if let arena { UnsafeMutableRawPointer(arena.baseAddress!).deallocate() }
  }
}

/// What one output pass did in a fresh workspace, in elements.
public struct WorkspaceUsage: Sendable {
  /// One value the pass wrote into the arena: its node, where, how many elements, the
  /// step that wrote it and the last that read it (step 0 is the input; step s + 1 runs
  /// the plan's step s; the output is read after the last).
  public struct Write: Hashable, Sendable {
    public var node: Int, offset: Int, count: Int, step: Int, lastRead: Int
  }

  /// The elements the workspace allocated, and in how many allocations (one arena).
  public var allocatedElements = 0, allocations = 0
  /// The values written, in order.
  public var writes: [Write] = []
  /// The reads that found their value overwritten by another value's write since it was
  /// written (a wrong plan; 0 when the arena is sound).
  public var overwrittenReads = 0
  /// The most elements the layers run on arrays (`Interpreter.evaluate`) held outside the
  /// arena at one step: their inputs copied out and their output before it is copied in
  /// (scratch inside the layer, such as attention's scores, not included), and that step.
  public var heapElements = 0, heapStep = 0

  /// The highest element any write reached, plus one.
  public var highWater: Int { writes.map { $0.offset + $0.count }.max() ?? 0 }
  /// The most elements held by values written and not yet read for the last time, at one step.
  public var peakLive: Int {
    OffsetPlanner.lowerBound(writes.map { TensorLifetime(size: $0.count, first: $0.step, last: $0.lastRead) })?.bytes ?? 0
  }
}

/// Idle workspaces, so repeated calls reuse their arenas; concurrent calls each get their own.
final class WorkspaceCache<T: TensorScalar>: @unchecked Sendable {
  private let lock = Lock()
  private var idle: [Workspace<T>] = []

  /// An idle workspace, or a new one.
  func checkOut() -> Workspace<T> {
    lock.lock()
    defer { lock.unlock() }
    return idle.popLast() ?? Workspace()
  }

  /// Hands a workspace back once its pass is done.
  func checkIn(_ w: Workspace<T>) {
    lock.lock()
    defer { lock.unlock() }
    idle.append(w)
  }
}
