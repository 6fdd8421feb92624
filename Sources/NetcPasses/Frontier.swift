/// One step of a frontier: every `x` in `xs` has the same largest `y`, `top`.
struct FrontierRun: Equatable, Sendable {
  var xs: ClosedRange<Int>
  var top: Int
}

/// For each `x` of `xs`, the largest `y` of `ys` for which `holds(x, y)`, or
/// `ys.lowerBound - 1` when there is none, as runs of equal values, ascending in `x`.
///
/// `holds` must be downward closed in `y` (true, then false as `y` grows) and its largest
/// `y` must not grow with `x`: a budget on figures that grow with both lengths. Both walks
/// gallop (steps of 1, 2, 4, ... then bisection), so the evaluations grow with the number
/// of steps of the frontier and the logarithm of their widths, not with the ranges: a flat
/// frontier over 10^6 values costs about 40. Nil when that would take more than `limit`
/// evaluations. Both ranges must start at 1 or above, as lengths do.
func fallingFrontier(_ xs: ClosedRange<Int>, _ ys: ClosedRange<Int>, limit: Int, _ holds: (Int, Int) -> Bool) -> [FrontierRun]? {
  precondition(xs.lowerBound >= 1 && ys.lowerBound >= 1)
  var evaluations = 0
  func test(_ x: Int, _ y: Int) -> Bool {
    if y < ys.lowerBound { return true }
    evaluations += 1
    return evaluations <= limit && holds(x, y)
  }
  /// The last of `good...bad` that holds, given that `good` holds and `bad` does not.
  func bisect(_ good: Int, _ bad: Int, _ holds: (Int) -> Bool) -> Int {
    var (g, b) = (good, bad)
    while b - g > 1 {
      let m = g + (b - g) / 2
      if holds(m) { g = m } else { b = m }
    }
    return g
  }
  /// The largest y of `known...hi` with `holds(x, y)`, given that it holds at `known`.
  func top(_ x: Int, from hi: Int, known: Int) -> Int {
    guard hi > known, !test(x, hi) else { return max(hi, known) }
    var bad = hi
    var step = 1
    while true {
      let (y, o) = bad.subtractingReportingOverflow(step)
      if o || y <= known { return bisect(known, bad) { test(x, $0) } }
      if test(x, y) { return bisect(y, bad) { test(x, $0) } }
      bad = y
      step = step.multipliedReportingOverflow(by: 2).overflow ? Int.max : step * 2
    }
  }
  /// The largest x of `known...hi` with `holds(x, y)`, given that it holds at `known`.
  func last(_ y: Int, from known: Int, to hi: Int) -> Int {
    var good = known
    var step = 1
    while good < hi {
      let (x, o) = good.addingReportingOverflow(step)
      let probe = o ? hi : min(x, hi)
      if !test(probe, y) { return bisect(good, probe) { test($0, y) } }
      good = probe
      step = step.multipliedReportingOverflow(by: 2).overflow ? Int.max : step * 2
    }
    return good
  }
  var runs: [FrontierRun] = []
  var x = xs.lowerBound
  var t = top(x, from: ys.upperBound, known: ys.lowerBound - 1)
  while evaluations <= limit {
    let end = t < ys.lowerBound ? xs.upperBound : last(t, from: x, to: xs.upperBound)
    runs.append(FrontierRun(xs: x...end, top: t))
    if end == xs.upperBound { break }
    x = end + 1
    // `holds(x, t)` failed (x is past the run), so the next top is below t.
    t = top(x, from: t - 1, known: ys.lowerBound - 1)
  }
  return evaluations <= limit ? runs : nil
}
