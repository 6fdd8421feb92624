import Dispatch

/// A pointer that may cross into the workers of `parallelFor`; each worker writes only
/// its own part of the memory, which is what makes sharing it sound.
struct SharedPointer<T>: @unchecked Sendable {
  let base: UnsafeMutablePointer<T>
}

/// Below this many multiply-adds (or element steps) a loop runs on the calling thread:
/// handing it out would cost more than the second core saves.
let parallelThreshold = 1 << 15

/// Runs `body(i)` for i in 0..<count on up to `threads` threads (the caller and the
/// persistent helpers of `WorkerPool`), a few chunks of consecutive indices per thread so
/// a thread that starts late takes fewer; serially when `threads` is 1 (so single-thread
/// timings mean what they say) or when `cost`, the loop's total work, is below
/// `parallelThreshold`.
func parallelFor(_ count: Int, threads: Int, cost: Int = .max, _ body: @Sendable (Int) -> Void) {
  let workers = min(max(1, threads), count)
  if workers <= 1 || cost < parallelThreshold {
    for i in 0..<count { body(i) }
    return
  }
  if #available(macOS 15, *) {
    WorkerPool.shared.run(count, workers: workers, chunk: max(1, count / (workers * 4)), body)
    return
  }
  DispatchQueue.concurrentPerform(iterations: workers) { w in
    var i = w
    while i < count {
      body(i)
      i += workers
    }
  }
}
