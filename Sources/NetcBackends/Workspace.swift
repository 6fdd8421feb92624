/// Activation buffers for the output-only pass, reused across layers and across calls:
/// allocating each activation afresh cost page faults and zeroing on every layer.
final class Workspace<T: TensorScalar>: @unchecked Sendable {
  private var idle: [UnsafeMutableBufferPointer<T>] = []

  /// A buffer of at least `count` elements, uninitialised: the smallest idle one that fits.
  func take(_ count: Int) -> UnsafeMutableBufferPointer<T> {
    var best = -1
    for (i, b) in idle.enumerated() where b.count >= count && (best < 0 || b.count < idle[best].count) { best = i }
    if best >= 0 { return idle.remove(at: best) }
    let b = UnsafeMutableBufferPointer<T>.allocate(capacity: max(count, 1))
    b.initialize(repeating: 0)
    return b
  }

  /// Returns a buffer from `take` for reuse.
  func give(_ buffer: UnsafeMutableBufferPointer<T>) {
    idle.append(buffer)
  }

  deinit {
    for b in idle { b.deallocate() }
  }
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
