import NetcPasses

/// Activation buffers for the output-only pass, reused across layers and across calls:
/// allocating each activation afresh cost page faults and zeroing on every layer. Not the
/// offset planner's arena: a pool of separate buffers, each request served by the smallest
/// idle one that fits; `WorkspaceUsage` records what a pass took, so `run --memory` can set
/// the pool's footprint beside the arena the planner would lay out for the same buffers.
final class Workspace<T: TensorScalar>: @unchecked Sendable {
  private var idle: [UnsafeMutableBufferPointer<T>] = []
  /// The step of the pass now running, for the lifetimes `usage` records.
  var clock = 0
  /// When recording: what the workspace allocated and lent, and the buffers lent now.
  var usage: WorkspaceUsage?
  private var open: [UnsafeMutablePointer<T>: Int] = [:]
  private var lent = 0

  /// A buffer of at least `count` elements, uninitialised: the smallest idle one that fits.
  func take(_ count: Int) -> UnsafeMutableBufferPointer<T> {
    var best = -1
    for (i, b) in idle.enumerated() where b.count >= count && (best < 0 || b.count < idle[best].count) { best = i }
    let b: UnsafeMutableBufferPointer<T>
    if best >= 0 {
      b = idle.remove(at: best)
    } else {
      b = UnsafeMutableBufferPointer<T>.allocate(capacity: max(count, 1))
      b.initialize(repeating: 0)
      usage?.allocatedElements += b.count
      usage?.allocations += 1
    }
    if usage != nil {
      open[b.baseAddress!] = usage!.requests.count
      usage!.requests.append(TensorLifetime(size: count, first: clock, last: clock))
      lent += b.count
      usage!.peakLentElements = max(usage!.peakLentElements, lent)
    }
    return b
  }

  /// Returns a buffer from `take` for reuse.
  func give(_ buffer: UnsafeMutableBufferPointer<T>) {
    if usage != nil, let i = open.removeValue(forKey: buffer.baseAddress!) {
      usage!.requests[i].last = clock
      lent -= buffer.count
    }
    idle.append(buffer)
  }

  deinit {
    for b in idle { b.deallocate() }
  }
}

/// What one output pass took from a fresh workspace, in elements.
public struct WorkspaceUsage: Sendable {
  /// Each request: the elements asked for and the steps the buffer was lent (step 0 is
  /// before the first layer; step s + 1 runs the plan's step s).
  public var requests: [TensorLifetime] = []
  /// The elements the workspace allocated (its footprint: buffers are kept for the next
  /// call), and in how many buffers.
  public var allocatedElements = 0, allocations = 0
  /// The most elements lent at one time.
  public var peakLentElements = 0
}

/// Idle workspaces, so repeated calls reuse their buffers; concurrent calls each get their own.
final class WorkspaceCache<T: TensorScalar>: @unchecked Sendable {
  private let lock = Lock()
  private var idle: [Workspace<T>] = []

  /// An idle workspace, or a new one.
  func checkOut() -> Workspace<T> {
    lock.lock()
    defer { lock.unlock() }
    return idle.popLast() ?? Workspace()
  }

  /// Hands a workspace back once every buffer it lent is returned.
  func checkIn(_ w: Workspace<T>) {
    lock.lock()
    defer { lock.unlock() }
    idle.append(w)
  }
}
