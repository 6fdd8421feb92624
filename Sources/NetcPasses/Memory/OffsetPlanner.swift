/// A tensor to place in one arena: its size and the steps during which its value is live.
public struct TensorLifetime: Hashable, Sendable {
  /// Its size (bytes, or elements: the planner does not care which).
  public var size: Int
  /// The step that writes it and the last step that reads it (inclusive).
  public var first: Int, last: Int

  /// Creates a lifetime.
  public init(size: Int, first: Int, last: Int) {
    self.size = size
    self.first = first
    self.last = max(first, last)
  }

  /// Whether both are live at some step, so they cannot share memory.
  public func overlaps(_ other: TensorLifetime) -> Bool { first <= other.last && other.first <= last }
}

/// Offsets for tensors in one arena, so that tensors whose lifetimes do not overlap share
/// memory: greedy by size (Pisarchyk & Lee, arXiv:2001.03288): the largest tensor first,
/// each into the smallest gap between the tensors already placed that it overlaps in
/// time, or above them all (and two more orders, the best of three kept, then repair
/// rounds that put the tensors above the lower bound first). `analyze`, `emit`'s arena
/// and `run`'s workspace all use it, each with its own lifetimes (`ExecutionSchedule`).
public enum OffsetPlanner {
  /// Each tensor's offset and the arena's size; sizes are rounded up to `alignment`, so
  /// every offset is a multiple of it. Nil when the rounded sizes' sum overflows.
  public static func plan(_ tensors: [TensorLifetime], alignment: Int = 1) -> (offsets: [Int], peak: Int)? {
    precondition(alignment >= 1)
    var sizes: [Int] = []
    sizes.reserveCapacity(tensors.count)
    var total = 0
    for t in tensors {
      let (padded, o1) = t.size.addingReportingOverflow(alignment - 1)
      let size = padded / alignment * alignment
      let (sum, o2) = total.addingReportingOverflow(size)
      if o1 || o2 { return nil }
      total = sum
      sizes.append(size)
    }
    // Every offset plus its size is at most the sum of the sizes, which did not overflow.
    // Greedy by size first; the same best-gap placement in two more orders (the longest
    // lived among equal sizes first, and in step order) sometimes packs tighter, and
    // the smallest arena of the three wins.
    let orders: [[Int]] = [
      tensors.indices.sorted { (sizes[$1], tensors[$0].first, $0) < (sizes[$0], tensors[$1].first, $1) },
      tensors.indices.sorted {
        (sizes[$1], tensors[$1].last - tensors[$1].first, $0) < (sizes[$0], tensors[$0].last - tensors[$0].first, $1)
      },
      tensors.indices.sorted { (tensors[$0].first, sizes[$1], $0) < (tensors[$1].first, sizes[$0], $1) },
    ]
    var best: (offsets: [Int], peak: Int)?
    var bestOrder: [Int] = []
    for order in orders {
      let p = place(tensors, sizes, order)
      if best == nil || p.peak < best!.peak { (best, bestOrder) = (p, order) }
    }
    guard var found = best else { return ([], 0) }
    // Repair: the tensors placed above the lower bound go first in the next round, so the
    // others fit around them. Greedy by size stacks every ConvNeXt block's two 4C values
    // at the same offsets, and consecutive residual values then cannot both fit beside
    // them (10C for 9C live); one round with those values first alternates the ends.
    let rounded = zip(tensors, sizes).map { TensorLifetime(size: $1, first: $0.first, last: $0.last) }
    guard let bound = lowerBound(rounded)?.bytes else { return found }
    var order = bestOrder
    var placed = found
    for _ in 0..<repairRounds where found.peak > bound {
      let high = order.filter { placed.offsets[$0] + sizes[$0] > bound }
      let isHigh = Set(high)
      order = high + order.filter { !isHigh.contains($0) }
      placed = place(tensors, sizes, order)
      if placed.peak < found.peak { found = placed }
    }
    return found
  }

  /// The most repair rounds `plan` runs after the greedy orders.
  static let repairRounds = 8

  /// Places tensors in `order`, each into the smallest gap between the placed tensors it
  /// overlaps in time that holds it, or above them all.
  static func place(_ tensors: [TensorLifetime], _ sizes: [Int], _ order: [Int]) -> (offsets: [Int], peak: Int) {
    let steps = (tensors.map(\.last).max() ?? -1) + 1
    // Per step, the placed tensors live at it: the overlapping ones are found without a
    // scan over every placed tensor (a 100,000-layer chain would be quadratic).
    var placedAt = Array(repeating: [Int](), count: steps)
    var offsets = Array(repeating: 0, count: tensors.count)
    var seen = Array(repeating: -1, count: tensors.count)
    var peak = 0
    var blocks: [(start: Int, end: Int)] = []
    for i in order {
      let t = tensors[i]
      blocks.removeAll(keepingCapacity: true)
      for step in t.first...t.last {
        for j in placedAt[step] where seen[j] != i {
          seen[j] = i
          blocks.append((offsets[j], offsets[j] + sizes[j]))
        }
      }
      blocks.sort { $0.start < $1.start }
      var best: Int?
      var bestGap = Int.max
      var top = 0
      for b in blocks {
        let gap = b.start - top
        if gap >= sizes[i] && gap < bestGap {
          best = top
          bestGap = gap
        }
        top = max(top, b.end)
      }
      offsets[i] = best ?? top
      peak = max(peak, offsets[i] + sizes[i])
      for step in t.first...t.last { placedAt[step].append(i) }
    }
    return (offsets, peak)
  }

  /// The least any placement can need: the largest total of the tensors live at one
  /// step (ARM NN's `GetMinPossibleMemorySize`). Nil on overflow.
  public static func lowerBound(_ tensors: [TensorLifetime]) -> (bytes: Int, step: Int)? {
    let live = liveSizes(tensors)
    guard let live else { return nil }
    var best = (bytes: 0, step: 0)
    for (step, bytes) in live.enumerated() where bytes > best.bytes { best = (bytes, step) }
    return best
  }

  /// Per step, the total size of the tensors live at it. Nil on overflow.
  public static func liveSizes(_ tensors: [TensorLifetime]) -> [Int]? {
    let steps = (tensors.map(\.last).max() ?? -1) + 1
    // A difference array: + at the first step, - after the last.
    var delta = Array(repeating: 0, count: steps + 1)
    for t in tensors {
      let (a, o1) = delta[t.first].addingReportingOverflow(t.size)
      let (b, o2) = delta[t.last + 1].subtractingReportingOverflow(t.size)
      if o1 || o2 { return nil }
      delta[t.first] = a
      delta[t.last + 1] = b
    }
    var live: [Int] = []
    live.reserveCapacity(steps)
    var running = 0
    for step in 0..<steps {
      let (r, o) = running.addingReportingOverflow(delta[step])
      if o { return nil }
      running = r
      live.append(running)
    }
    return live
  }
}
