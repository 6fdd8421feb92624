import NetcDiagnostics
import NetcIR

/// `solve` for the common question about a sequence model: which lengths (or batch-like
/// extents) are valid and stay within `budget:`. When the only free var is a length of the
/// input (an extent other than the channels) that nothing else mentions, every shape
/// failure is a threshold (a window that needs a longer input, a position table that takes
/// a shorter one) as long as each merge joins branches whose shapes are the same
/// expressions; and every cost grows with the input's extents. The valid values are then one
/// interval, found by bisection on concrete evaluations instead of enumerating the domain:
/// a domain of 10^6 lengths takes about 40 evaluations. Nil when those conditions do not
/// hold (the general search then runs).
func solveInterval(_ graph: Graph, options: SolveOptions) -> Solutions? {
  let free = graph.vars.filter { options.fixed[$0.name] == nil }
  // More than 64 values: upper - lower >= 64, without `count`, which traps on 0...Int.max.
  guard free.count == 1, case .range(let domain)? = free[0].domain,
    case let (span, overflow) = domain.upperBound.subtractingReportingOverflow(domain.lowerBound), overflow || span >= 64
  else { return nil }
  let v = free[0].name
  // The var: a bare extent of one input, not its channels (unless the input is token ids).
  var uses = 0
  for input in graph.allInputs {
    let lengthAxes = input.tokens ? input.shape.indices : input.shape.indices.dropLast()
    for (i, e) in input.shape.enumerated() where e.expr.variables.contains(v) {
      guard e.expr == .variable(v), lengthAxes.contains(i) else { return nil }
      uses += 1
    }
  }
  guard uses == 1 else { return nil }
  for node in graph.nodes {
    if allValues(node).contains(where: { $0.expr.variables.contains(v) }) || node.attributes.shortcutTarget != nil { return nil }
    if node.expect?.mentions(v) == true { return nil }
  }
  if graph.outputExpect?.mentions(v) == true || graph.budgetBatch?.expr.variables.contains(v) == true { return nil }
  var range = domain
  for c in graph.conditions {
    // Only bounds of the var against constants, which narrow the interval.
    if case .variable(v) = c.lhs, let b = c.rhs.constant {
      guard let r = narrowed(range, c.relation, b) else { return empty(graph, v, options, domain) }
      range = r
    } else if case .variable(v) = c.rhs, let b = c.lhs.constant {
      guard let r = narrowed(range, c.relation.flipped, b) else { return empty(graph, v, options, domain) }
      range = r
    } else {
      return nil
    }
  }
  // Merges must join shapes that agree whatever the length, or equality could hold at
  // scattered lengths only.
  guard let symbolic = try? analyzeSymbolic(graph, bindings: options.fixed, free: [v]) else { return nil }
  for node in graph.nodes where node.op.isMerge {
    let shapes = node.inputs.map { symbolic.nodes[$0].shape }
    guard let first = shapes.first ?? nil, shapes.allSatisfy({ $0 != nil }) else { return nil }
    for s in shapes.dropFirst() {
      switch node.op {
      case .concat: guard s!.count == first.count, Array(s!.dropLast()) == Array(first.dropLast()) else { return nil }
      case .moe: continue
      case .add, .mul: guard s! == first else { return nil }
      case .input, .conv, .dwconv, .pwconv, .deconv, .maxpool, .avgpool, .gap, .gmp, .fc, .linear, .flatten, .bn, .layernorm, .rmsnorm,
        .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .silu, .hardswish, .hardsigmoid, .identity, .leakyrelu, .dropout, .droppath,
        .layerscale, .embed, .posembed, .typeembed, .clstoken, .tokens, .take, .attention, .upsample, .pad, .shuffle, .router, .slice:
        return nil
      }
    }
  }

  var bindings = options.fixed
  /// Whether shapes form at `x`, and whether the budget then holds.
  func evaluate(_ x: Int) -> (shapes: Bool, budget: Bool) {
    bindings[v] = x
    let (shapes, problems) = inferShapesReporting(graph, bindings: bindings)
    guard let shapes, problems.isEmpty else { return (false, false) }
    guard let r = try? costedAndResolved(graph, shapes) else { return (true, false) }
    return (true, checkBudget(r.graph, r.shapes, r.costs, bindings: bindings).isEmpty)
  }
  /// The first `x` in `lo...hi` where `holds` turns true (it is false, then true), or nil.
  func firstTrue(_ lo: Int, _ hi: Int, _ holds: (Int) -> Bool) -> Int? {
    var (a, b) = (lo, hi)
    guard holds(b) else { return nil }
    while a < b {
      let m = a + (b - a) / 2
      if holds(m) { b = m } else { a = m + 1 }
    }
    return a
  }
  /// The last `x` in `lo...hi` where `holds` is still true (it is true, then false), or nil.
  func lastTrue(_ lo: Int, _ hi: Int, _ holds: (Int) -> Bool) -> Int? {
    var (a, b) = (lo, hi)
    guard holds(a) else { return nil }
    while a < b {
      let m = b - (b - a) / 2
      if holds(m) { a = m } else { b = m - 1 }
    }
    return a
  }
  // Shapes form on an interval [a, b]; find one end from a point inside it.
  let lo = range.lowerBound, hi = range.upperBound
  let a: Int, b: Int
  if evaluate(lo).shapes {
    a = lo
    b = lastTrue(lo, hi) { evaluate($0).shapes }!
  } else if evaluate(hi).shapes {
    b = hi
    a = firstTrue(lo, hi) { evaluate($0).shapes }!
  } else {
    // Valid lengths strictly inside the domain only: the general search decides.
    return nil
  }
  guard let c = lastTrue(a, b, { evaluate($0).budget }) else { return empty(graph, v, options, range, at: a) }
  var result = Solutions(vars: [v], fixed: options.fixed, count: BigCount(UInt64(c - a + 1)), listed: [], failure: nil)
  result.interval = a...c
  if options.list > 0 { result.listed = (a...min(c, a &+ min(options.list, c - a + 1) - 1)).map { [$0] } }
  return result
}

/// No solution: the reason is the first problem at `x` (the interval's start).
private func empty(_ graph: Graph, _ v: String, _ options: SolveOptions, _ range: ClosedRange<Int>, at x: Int? = nil) -> Solutions {
  var bindings = options.fixed
  bindings[v] = x ?? range.lowerBound
  var problems: [Diagnostic] = []
  let (shapes, shapeProblems) = inferShapesReporting(graph, bindings: bindings)
  problems = shapeProblems
  if problems.isEmpty, let shapes, let r = try? costedAndResolved(graph, shapes) {
    problems = checkBudget(r.graph, r.shapes, r.costs, bindings: bindings)
  }
  let decl = graph.vars.first { $0.name == v }
  var failure = Diagnostic.error(
    .noSolution, "no value of `\(v)` in \(range.lowerBound)..\(range.upperBound) satisfies the constraints", at: decl?.range)
  if let first = problems.first {
    failure.notes.append(.init("with \(v) = \(bindings[v]!), the smallest candidate: \(first.message)", at: first.range))
  }
  return Solutions(vars: [v], fixed: options.fixed, count: BigCount(0), listed: [], failure: failure)
}

/// `range` cut by `var relation bound`; nil when nothing is left.
func narrowed(_ range: ClosedRange<Int>, _ relation: Condition.Relation, _ bound: Int) -> ClosedRange<Int>? {
  var lo = range.lowerBound, hi = range.upperBound
  switch relation {
  case .le: hi = min(hi, bound)
  case .lt:
    guard bound > Int.min else { return nil }
    hi = min(hi, bound - 1)
  case .ge: lo = max(lo, bound)
  case .gt:
    guard bound < Int.max else { return nil }
    lo = max(lo, bound + 1)
  case .eq: (lo, hi) = (max(lo, bound), min(hi, bound))
  case .ne: return bound == lo ? (lo < hi ? (lo + 1)...hi : nil) : bound == hi ? (lo < hi ? lo...(hi - 1) : nil) : range
  }
  return lo <= hi ? lo...hi : nil
}

extension ShapePattern {
  /// Whether an extent mentions var `v`.
  func mentions(_ v: String) -> Bool {
    extents.contains { if case .value(let e) = $0 { e.expr.variables.contains(v) } else { false } }
  }
}
