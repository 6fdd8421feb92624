import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Helper threads created once and kept for the process, for the interpreter's parallel
/// loops: between jobs they spin for a while, then park, so handing out a layer's tiles
/// costs an atomic store while they spin (libdispatch parked its workers after every
/// `concurrentPerform`, and waking them took 15% of MobileNet v2's samples on 2 threads).
///
/// One job at a time: the caller publishes it, takes chunks of indices itself, and helpers
/// that arrive in time take chunks too (a helper that is slow to wake costs nothing, the
/// caller just does more). A caller that finds the pool busy (another interpreter, or a
/// job started from inside a job) runs its loop serially instead of waiting.
@available(macOS 15, *)
final class WorkerPool: @unchecked Sendable {
  /// The process's pool.
  static let shared = WorkerPool()

  /// How long an idle helper spins before it parks.
  static let spinNanoseconds: UInt64 = 2_000_000

  // `state`: the job's generation in the high 32 bits, bit 31 set once the caller closed
  // the job to newcomers, and the low bits the helpers inside it. A helper reads the job
  // only while it is inside, and the caller returns only when none is, so the job's body
  // (a closure on the caller's stack) outlives every use.
  private let state = Atomic<UInt64>(0)
  // The indices not yet taken, `front..<back`: `front` in the low 32 bits, `back` in the
  // high ones, so one compare-exchange takes a chunk from either end.
  private let range = Atomic<UInt64>(0)
  private let tickets = Atomic<Int>(0)
  private let busy = Atomic<Bool>(false)
  private let sleepers = Atomic<Int>(0)
  private let parking = Lock()
  private let growing = Mutex<Int>(0)

  // The job; written only while no helper is inside (before `state` publishes it).
  private var chunk = 1
  private var helpers = 0
  private var body: ((Int) -> Void)?

  private static let closed: UInt64 = 1 << 31
  private static let insideMask: UInt64 = closed - 1

  /// Runs `body(i)` for every i in 0..<count on the caller and up to `workers - 1`
  /// helpers, `chunk` consecutive indices at a time; returns when all have run.
  func run(_ count: Int, workers: Int, chunk: Int, _ body: (Int) -> Void) {
    guard count > 0 else { return }
    // Counts fit the 32-bit halves of `range` (they are tiles and rows).
    guard count <= Int(UInt32.max) else {
      for i in 0..<count { body(i) }
      return
    }
    guard workers > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
      for i in 0..<count { body(i) }
      return
    }
    defer { busy.store(false, ordering: .releasing) }
    ensureHelpers(workers - 1)
    withoutActuallyEscaping(body) { body in
      self.chunk = max(1, chunk)
      self.helpers = workers - 1
      self.body = body
      range.store(UInt64(count) << 32, ordering: .relaxed)
      tickets.store(0, ordering: .relaxed)
      let generation = (state.load(ordering: .relaxed) >> 32) &+ 1
      state.store(generation << 32, ordering: .sequentiallyConsistent)
      if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
        parking.lock()
        parking.broadcast()
        parking.unlock()
      }
      work(fromBack: false)
      // Close the job, then wait for the helpers inside to finish their chunks.
      state.bitwiseOr(Self.closed, ordering: .acquiringAndReleasing)
      var spins = 0
      while state.load(ordering: .acquiring) & Self.insideMask != 0 {
        spins &+= 1
        if spins > 64 { sched_yield() }
      }
      self.body = nil
    }
  }

  /// Takes chunks of the current job until none is left: the caller from the front, the
  /// helpers from the back. Consecutive layers then split their rows alike (the caller's
  /// share at the top, the helpers' at the bottom), so a layer mostly reads what the same
  /// core wrote; handed out alternately, rows crossed between the cores' L2 caches, and
  /// MobileNet v2's depthwise convs ran no faster on two threads than on one.
  private func work(fromBack: Bool) {
    let chunk = self.chunk, body = self.body!
    var s = range.load(ordering: .relaxed)
    while true {
      let front = Int(s & 0xFFFF_FFFF), back = Int(s >> 32)
      if front >= back { return }
      let lo = fromBack ? max(front, back - chunk) : front, hi = fromBack ? back : min(back, front + chunk)
      let taken = fromBack ? UInt64(lo) << 32 | UInt64(front) : UInt64(back) << 32 | UInt64(hi)
      let (exchanged, original) = range.compareExchange(expected: s, desired: taken, ordering: .relaxed)
      if exchanged {
        for i in lo..<hi { body(i) }
        s = range.load(ordering: .relaxed)
      } else {
        s = original
      }
    }
  }

  /// Starts helper threads until there are `n`.
  private func ensureHelpers(_ n: Int) {
    growing.withLock { started in
      while started < n {
        // BLAS kernels keep buffers on the stack. Without a helper the caller does the
        // whole job (helpers only ever take a share of it).
        guard startThread(stackSize: 8 << 20, { [self] in helperLoop() }) else { return }
        started += 1
      }
    }
  }

  private func helperLoop() {
    var seen = state.load(ordering: .acquiring) >> 32
    while true {
      var s = state.load(ordering: .acquiring)
      if s >> 32 == seen {
        let start = DispatchTime.now().uptimeNanoseconds
        var spins = 0
        while s >> 32 == seen {
          spins &+= 1
          // After a short pure spin, yield while spinning: on a machine whose other
          // core is busy a spinning helper would otherwise take time from the caller.
          if spins > 64 { sched_yield() }
          if spins & 63 == 0 && DispatchTime.now().uptimeNanoseconds &- start > Self.spinNanoseconds {
            park(seen)
          }
          s = state.load(ordering: .acquiring)
        }
      }
      seen = s >> 32
      // Join unless the caller closed the job already.
      while s & Self.closed == 0 && s >> 32 == seen {
        let (exchanged, original) = state.compareExchange(
          expected: s, desired: s &+ 1, ordering: .acquiringAndReleasing)
        if exchanged {
          if tickets.wrappingAdd(1, ordering: .relaxed).oldValue < helpers { work(fromBack: true) }
          state.wrappingSubtract(1, ordering: .releasing)
          break
        }
        s = original
      }
    }
  }

  /// Sleeps until a job after generation `seen` is published.
  private func park(_ seen: UInt64) {
    parking.lock()
    sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
    while state.load(ordering: .sequentiallyConsistent) >> 32 == seen { parking.wait() }
    sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    parking.unlock()
  }
}
