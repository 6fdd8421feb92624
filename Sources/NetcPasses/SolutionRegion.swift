/// The solutions of two vars as runs: each run of the first var's values shares one
/// interval of the second's. Two lengths under a budget of figures that grow with both give
/// a staircase (the longer the source, the shorter the target that fits).
public struct SolutionRegion: Equatable, Sendable {
  /// Consecutive values of the first var, and every value of the second that goes with each.
  public struct Run: Equatable, Sendable {
    /// The first var's values.
    public var first: ClosedRange<Int>
    /// The second var's values for each of them.
    public var second: ClosedRange<Int>

    /// Creates a run.
    public init(first: ClosedRange<Int>, second: ClosedRange<Int>) {
      self.first = first
      self.second = second
    }
  }

  /// The runs, ascending in the first var, none empty.
  public var runs: [Run]

  /// Creates a region.
  public init(runs: [Run]) { self.runs = runs }

  /// How many pairs the runs hold.
  public var count: BigCount {
    var total = BigCount.zero
    for r in runs {
      let a = BigCount(UInt64(r.first.upperBound - r.first.lowerBound) + 1)
      let b = BigCount(UInt64(r.second.upperBound - r.second.lowerBound) + 1)
      total.add(a.multiplied(by: b))
    }
    return total
  }

  /// The first `n` pairs in lexicographic order.
  public func first(_ n: Int) -> [[Int]] {
    var out: [[Int]] = []
    for r in runs {
      for x in r.first {
        for y in r.second {
          guard out.count < n else { return out }
          out.append([x, y])
        }
      }
    }
    return out
  }
}
