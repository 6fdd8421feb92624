import Foundation
import Testing

@testable import NetcBackends

/// `parallelFor` on the persistent `WorkerPool`: every index runs exactly once, whatever the
/// job size, across many reuses, after the helpers parked, and when jobs nest or race.
@Suite struct WorkerPoolTests {
  /// Runs `parallelFor` over `count` indices, each adding `i * i + 1` to its own slot, and
  /// checks the slots against the serial loop's values (a slot run twice or never differs).
  static func check(_ count: Int, threads: Int) {
    let slots = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
    defer { slots.deallocate() }
    slots.initialize(repeating: 0, count: max(count, 1))
    let shared = SharedPointer(base: slots)
    parallelFor(count, threads: threads) { i in shared.base[i] += i * i + 1 }
    for i in 0..<count { #expect(slots[i] == i * i + 1, "index \(i) of \(count)") }
  }

  @Test func manySmallJobsMatchTheSerialLoop() {
    for round in 0..<3000 { Self.check(round % 67, threads: 2) }
  }

  @Test func emptyAndSingleJobs() {
    for _ in 0..<100 {
      Self.check(0, threads: 2)
      Self.check(1, threads: 2)
    }
  }

  @Test func jobsAfterTheHelpersParked() {
    for _ in 0..<5 {
      Thread.sleep(forTimeInterval: Double(WorkerPool.spinNanoseconds) / 1e9 * 2)
      Self.check(1000, threads: 2)
    }
  }

  @Test func moreThreadsThanCores() {
    for count in [3, 17, 256] { Self.check(count, threads: 4) }
  }

  @Test func nestedJobsRunSerially() {
    let total = UnsafeMutablePointer<Int>.allocate(capacity: 8 * 8)
    defer { total.deallocate() }
    total.initialize(repeating: 0, count: 64)
    let shared = SharedPointer(base: total)
    parallelFor(8, threads: 2) { i in
      parallelFor(8, threads: 2) { j in shared.base[i * 8 + j] += 1 }
    }
    for i in 0..<64 { #expect(total[i] == 1) }
  }

  @Test func concurrentCallers() async {
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<4 {
        group.addTask { for round in 0..<300 { Self.check(round % 41, threads: 2) } }
      }
    }
  }
}
