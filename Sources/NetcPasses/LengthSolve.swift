import NetcDiagnostics
import NetcIR

/// `solve` for the common question about a sequence model: which lengths (or batch-like
/// extents) are valid and stay within `budget:`, for one free length or two (an
/// encoder-decoder's source and target). When each free var is a length of an input (an
/// extent other than the channels) that nothing else mentions, every shape failure is a
/// threshold in one of them (a window that needs a longer input, a position table that
/// takes a shorter one) as long as each merge joins branches whose shapes are the same
/// expressions and no extent mixes two of them; and every cost grows with each length. The
/// valid values of one length are then an interval, found by bisection: a domain of 10^6
/// lengths takes about 40 evaluations. Two lengths give a box cut by the budget into a
/// staircase, walked along its frontier (`fallingFrontier`) on the closed forms of the
/// budget's figures. Nil when those conditions do not hold (the general search then runs).
func solveLengths(_ graph: Graph, options: SolveOptions) -> Solutions? {
  let declared = graph.vars.filter { options.fixed[$0.name] == nil }
  guard declared.count == 1 || declared.count == 2 else { return nil }
  // More than 64 combinations: smaller domains are the general search's, which lists them
  // factored. (The span is computed with overflow checks: `count` traps on 0...Int.max.)
  var domains: [String: ClosedRange<Int>] = [:]
  var combinations = 1
  for v in declared {
    guard case .range(let d)? = v.domain else { return nil }
    let (span, o1) = d.upperBound.subtractingReportingOverflow(d.lowerBound)
    let (n, o2) = o1 ? (0, true) : span.addingReportingOverflow(1)
    let (c, o3) = o2 ? (0, true) : combinations.multipliedReportingOverflow(by: n)
    combinations = o3 ? Int.max : c
    domains[v.name] = d
  }
  guard combinations > 64 else { return nil }
  // Each var: a bare extent of one input, not its channels (unless the input is token ids),
  // used once; ordered as the general search lists them, by first use, then declaration.
  var firstUse: [String: Int] = [:]
  for v in declared.map(\.name) {
    var uses = 0
    for input in graph.allInputs {
      let lengthAxes = input.tokens ? input.shape.indices : input.shape.indices.dropLast()
      for (i, e) in input.shape.enumerated() where e.expr.variables.contains(v) {
        guard e.expr == .variable(v), lengthAxes.contains(i) else { return nil }
        uses += 1
        firstUse[v] = input.node
      }
    }
    guard uses == 1 else { return nil }
    for node in graph.nodes {
      if allValues(node).contains(where: { $0.expr.variables.contains(v) }) || node.attributes.shortcutTarget != nil { return nil }
      if node.expect?.mentions(v) == true { return nil }
    }
    if graph.outputExpect?.mentions(v) == true || graph.budgetBatch?.expr.variables.contains(v) == true { return nil }
  }
  let vars = declared.indices.sorted { (firstUse[declared[$0].name]!, $0) < (firstUse[declared[$1].name]!, $1) }.map { declared[$0].name }
  var ranges = vars.map { domains[$0]! }
  for c in graph.conditions {
    // Only bounds of a var against constants, which narrow its interval.
    let bound: (Int, Condition.Relation, Int)
    if case .variable(let v) = c.lhs, let i = vars.firstIndex(of: v), let b = c.rhs.constant {
      bound = (i, c.relation, b)
    } else if case .variable(let v) = c.rhs, let i = vars.firstIndex(of: v), let b = c.lhs.constant {
      bound = (i, c.relation.flipped, b)
    } else {
      return nil
    }
    guard let r = narrowed(ranges[bound.0], bound.1, bound.2) else {
      let domain = domains[vars[bound.0]]!
      return vars.count == 1 ? empty(graph, vars, options, domain, at: [domain.lowerBound]) : empty(graph, vars, options, nil, at: nil)
    }
    ranges[bound.0] = r
  }
  guard case .success(let batch) = budgetBatch(graph, options.fixed) else { return nil }
  // Upper limits hold up to a frontier, lower ones from one; `!=` holds on both sides of a
  // value and is the general search's.
  var upper: [(limit: Int, relation: Condition.Relation)] = []
  var lower: [(limit: Int, relation: Condition.Relation)] = []
  for (i, limit) in graph.budget.enumerated() {
    switch limit.relation {
    case .le, .lt: upper.append((i, limit.relation))
    case .ge, .gt: lower.append((i, limit.relation))
    case .eq:
      upper.append((i, .le))
      lower.append((i, .ge))
    case .ne: return nil
    }
  }

  // Merges must join shapes that agree whatever the lengths, or equality could hold at
  // scattered lengths only; with two lengths, no extent may mix them, so that each shape
  // failure is a threshold in one of them.
  guard let symbolic = try? analyzeSymbolic(graph, bindings: options.fixed, free: vars) else { return nil }
  for node in graph.nodes {
    if vars.count > 1 {
      guard let shape = symbolic.nodes[node.id].shape, shape.allSatisfy({ $0.variables.count <= 1 }) else { return nil }
    }
    guard node.op.isMerge else { continue }
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
  func bind(_ point: [Int]) {
    for (v, x) in zip(vars, point) { bindings[v] = x }
  }
  /// Whether shapes form at `point`.
  func shapesForm(_ point: [Int]) -> Bool {
    bind(point)
    let (shapes, problems) = inferShapesReporting(graph, bindings: bindings)
    return shapes != nil && problems.isEmpty
  }
  // The budget's figures from the closed forms when every limit is a sum over the layers
  // (each evaluation a few expressions); otherwise from a concrete analysis at each point.
  let t = symbolic.totals
  let forms: [SymExpr]? =
    graph.budget.allSatisfy(\.metric.isLayerSum)
    ? [t.params, t.buffers, t.macs, t.activations, t.kvCache].allSatisfy { $0 != nil }
      ? [t.params!, t.buffers!, t.macs!, t.activations!, t.kvCache!] : nil
    : nil
  /// The value of each limit at `point` (nil inside: overflow), or nil when the costs
  /// cannot be counted there (an overflow on the way), which no budget allows.
  func figures(_ point: [Int]) -> [Int?]? {
    bind(point)
    if let forms {
      var values: [Int] = []
      for f in forms {
        guard let v = try? f.evaluate(bindings) else { return nil }
        values.append(v)
      }
      var cost = Cost(params: values[0], buffers: values[1], macs: values[2], activations: values[3])
      cost.kvCache = values[4]
      return graph.budget.map { budgetValue($0.metric, cost, precision: graph.budgetPrecision, batch: batch) }
    }
    guard let inferred = try? inferShapes(graph, bindings: bindings), let r = try? costedAndResolved(graph, inferred) else { return nil }
    var whole = BudgetFigures(graph: r.graph, shapes: r.shapes, costs: r.costs)
    return graph.budget.map { whole.value($0.metric, batch: batch) }
  }
  /// Whether every upper limit holds at `point`: true up to the frontier.
  func holdsUpper(_ point: [Int]) -> Bool {
    guard let f = figures(point) else { return false }
    return upper.allSatisfy { i, relation in f[i].map { relation.holds($0, graph.budget[i].bound) } ?? false }
  }
  /// Whether every lower limit holds at `point`: true from the frontier on.
  func holdsLower(_ point: [Int]) -> Bool {
    guard !lower.isEmpty else { return true }
    guard let f = figures(point) else { return true }
    return lower.allSatisfy { i, relation in f[i].map { relation.holds($0, graph.budget[i].bound) } ?? true }
  }

  // Shapes form on an interval of each length; find its ends from a point inside.
  let corners: [[Int]] =
    vars.count == 1
    ? [[ranges[0].lowerBound], [ranges[0].upperBound]]
    : [ranges[0].lowerBound, ranges[0].upperBound].flatMap { x in [ranges[1].lowerBound, ranges[1].upperBound].map { [x, $0] } }
  // Valid lengths strictly inside the domains only: the general search decides.
  guard let inside = corners.first(where: shapesForm) else { return nil }
  var box: [ClosedRange<Int>] = []
  for i in vars.indices {
    func at(_ x: Int) -> [Int] {
      var p = inside
      p[i] = x
      return p
    }
    let lo = ranges[i].lowerBound, hi = ranges[i].upperBound
    if inside[i] == lo {
      box.append(lo...lastTrue(lo, hi) { shapesForm(at($0)) }!)
    } else {
      box.append(firstTrue(lo, hi) { shapesForm(at($0)) }!...hi)
    }
  }
  if vars.count == 2 {
    let far = [[box[0].lowerBound, box[1].upperBound], [box[0].upperBound, box[1].lowerBound], [box[0].upperBound, box[1].upperBound]]
    guard far.allSatisfy(shapesForm), shapesForm([box[0].lowerBound, box[1].lowerBound]) else { return nil }
  }

  var result = Solutions(vars: vars, fixed: options.fixed, count: .zero, listed: [], failure: nil)
  if vars.count == 1 {
    let (a, b) = (box[0].lowerBound, box[0].upperBound)
    guard let from = firstTrue(a, b, { holdsLower([$0]) }) else { return empty(graph, vars, options, ranges[0], at: [b], largest: true) }
    guard let to = lastTrue(from, b, { holdsUpper([$0]) }) else { return empty(graph, vars, options, ranges[0], at: [from]) }
    result.count = BigCount(UInt64(to - from + 1))
    result.interval = from...to
    if options.list > 0 { result.listed = (from...min(to, from &+ min(options.list, to - from + 1) - 1)).map { [$0] } }
    return result
  }
  let limit = forms == nil ? 2_000 : 1_000_000
  guard let tops = fallingFrontier(box[0], box[1], limit: limit, { holdsUpper([$0, $1]) }) else { return nil }
  var bottoms = [FrontierRun(xs: box[0], top: box[1].lowerBound - 1)]
  if !lower.isEmpty {
    // Below the lower frontier the lower limits fail: its top is the last y where they do.
    guard let b = fallingFrontier(box[0], box[1], limit: limit, { !holdsLower([$0, $1]) }) else { return nil }
    bottoms = b
  }
  var runs: [SolutionRegion.Run] = []
  var (i, j) = (0, 0)
  var x = box[0].lowerBound
  while i < tops.count && j < bottoms.count {
    let end = min(tops[i].xs.upperBound, bottoms[j].xs.upperBound)
    let (from, to) = (bottoms[j].top + 1, tops[i].top)
    if from <= to {
      if let last = runs.last, last.second == from...to, last.first.upperBound == x - 1 {
        runs[runs.count - 1].first = last.first.lowerBound...end
      } else {
        runs.append(.init(first: x...end, second: from...to))
      }
    }
    if end == tops[i].xs.upperBound { i += 1 }
    if end == bottoms[j].xs.upperBound { j += 1 }
    x = end &+ 1
  }
  guard !runs.isEmpty else {
    let smallest = [box[0].lowerBound, box[1].lowerBound]
    let fails = holdsUpper(smallest)
    return empty(graph, vars, options, nil, at: fails ? [box[0].upperBound, box[1].upperBound] : smallest, largest: fails)
  }
  let region = SolutionRegion(runs: runs)
  result.region = region
  result.count = region.count
  if options.list > 0 { result.listed = region.first(options.list) }
  return result
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

/// No solution: the reason is the first problem at `point`, the smallest candidate (or the
/// largest, where a lower limit fails), or the domain `where:` left empty when there is none.
private func empty(
  _ graph: Graph, _ vars: [String], _ options: SolveOptions, _ range: ClosedRange<Int>?, at point: [Int]?, largest: Bool = false
) -> Solutions {
  var bindings = options.fixed
  var problems: [Diagnostic] = []
  if let point {
    for (v, x) in zip(vars, point) { bindings[v] = x }
    let (shapes, shapeProblems) = inferShapesReporting(graph, bindings: bindings)
    problems = shapeProblems
    if problems.isEmpty, let shapes, let r = try? costedAndResolved(graph, shapes) {
      problems = checkBudget(r.graph, r.shapes, r.costs, bindings: bindings)
    }
  }
  let decl = graph.vars.first { $0.name == vars[0] }
  let names = vars.map { "`\($0)`" }.joined(separator: " and ")
  let domain = range.map { " in \($0.lowerBound)..\($0.upperBound)" } ?? " in their domains"
  var failure = Diagnostic.error(
    .noSolution, "no value\(vars.count == 1 ? "" : "s") of \(names)\(domain) satisf\(vars.count == 1 ? "ies" : "y") the constraints",
    at: decl?.range)
  if let first = problems.first, let point {
    let at = zip(vars, point).map { "\($0) = \($1)" }.joined(separator: ", ")
    failure.notes.append(.init("with \(at), the \(largest ? "largest" : "smallest") candidate: \(first.message)", at: first.range))
  }
  return Solutions(vars: vars, fixed: options.fixed, count: BigCount(0), listed: [], failure: failure)
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
