import Testing

@testable import NetcPasses

/// The galloping frontier walk against the staircases it is given.
@Suite struct FrontierTests {
  /// Runs of `tops` (one per x from 1), as the walk returns them.
  static func runs(_ tops: [Int]) -> [FrontierRun] {
    var out: [FrontierRun] = []
    for (i, t) in tops.enumerated() {
      if let last = out.last, last.top == t {
        out[out.count - 1].xs = last.xs.lowerBound...(i + 1)
      } else {
        out.append(FrontierRun(xs: (i + 1)...(i + 1), top: t))
      }
    }
    return out
  }

  @Test(arguments: 0..<40)
  func randomStaircases(_ seed: Int) {
    var rng = SeededGenerator(seed: UInt64(seed + 1))
    let width = Int.random(in: 1...300, using: &rng)
    let height = Int.random(in: 1...300, using: &rng)
    // A falling staircase from above the range to below it, with flat stretches.
    var t = Int.random(in: 0...(height + 2), using: &rng)
    var tops: [Int] = []
    for _ in 0..<width {
      tops.append(min(max(t, 0), height))
      if Int.random(in: 0..<4, using: &rng) == 0 { t -= Int.random(in: 0...40, using: &rng) }
    }
    var evaluations = 0
    let found = fallingFrontier(1...width, 1...height, limit: .max) { x, y in
      evaluations += 1
      return y <= tops[x - 1]
    }
    #expect(found == Self.runs(tops))
    #expect(evaluations <= 4 * (Self.runs(tops).count + 1) * (1 + Int.bitWidth - width.leadingZeroBitCount))
  }

  @Test func flatFrontierOverAMillionTakesFewEvaluations() {
    var evaluations = 0
    let found = fallingFrontier(1...1_000_000, 1...1_000_000, limit: .max) { _, y in
      evaluations += 1
      return y <= 777
    }
    #expect(found == [FrontierRun(xs: 1...1_000_000, top: 777)])
    #expect(evaluations < 100)
  }

  @Test func givesUpPastItsLimit() {
    // A diagonal: one run per x, more evaluations than the limit allows.
    #expect(fallingFrontier(1...1000, 1...1000, limit: 500) { x, y in x + y <= 1001 } == nil)
    #expect(fallingFrontier(1...1000, 1...1000, limit: .max) { x, y in x + y <= 1001 }?.count == 1000)
  }
}
