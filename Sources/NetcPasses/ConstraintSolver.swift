import NetcDiagnostics
import NetcIR

/// How `solve` searches and what it lists.
public struct SolveOptions: Sendable {
  /// Vars fixed on the command line (`--set k=9`).
  public var fixed: [String: Int] = [:]
  /// How many solutions to list, in order; 0 counts only.
  public var list = Int.max
  /// The most candidate combinations (and states) the search will try before it reports
  /// the search as too large instead of running on.
  public var limit = 10_000_000
  /// The most transitions listing keeps in memory to walk solutions back.
  public var edgeLimit = 5_000_000
  /// Called on the caller's thread before each node is searched, with the node's index, the
  /// node count and the states reaching it: a long search can say how far it is.
  public var progress: (@Sendable (_ node: Int, _ nodes: Int, _ states: Int) -> Void)?

  /// Default options: list everything, limit 10^7.
  public init(fixed: [String: Int] = [:], list: Int = Int.max, limit: Int = 10_000_000) {
    self.fixed = fixed
    self.list = list
    self.limit = limit
  }
}

/// Every solution of a spec's unknowns, or the count and the first few.
public struct Solutions: Sendable {
  /// The free vars, in the order solutions list them: by the layer that first uses them,
  /// then by declaration order.
  public var vars: [String]
  /// The vars fixed with `--set`.
  public var fixed: [String: Int]
  /// How many assignments satisfy every constraint.
  public var count: BigCount
  /// The first solutions in lexicographic order of `vars` (each a value per var).
  public var listed: [[Int]]
  /// Why there is no solution, when `count` is zero (NS302).
  public var failure: Diagnostic?
}

/// Finds every assignment of the spec's vars that satisfies its constraints: `->` shapes,
/// `output:`, `where:`, `budget:`, and every extent at least 1 with groups dividing
/// channels. Searches layer by layer: a state is the shapes still to be read plus the
/// vars still to be used, so vars of one layer are summed out and equal states merge;
/// counting is dynamic programming over states, listing walks the kept transitions.
public func solve(_ graph: Graph, options: SolveOptions = SolveOptions()) throws(DiagnosticError) -> Solutions {
  try verify(graph)
  try checkBindings(graph, options.fixed)
  let plan = try SolverPlan(graph, fixed: options.fixed, keepAll: false)
  var search = Search(graph: graph, plan: plan, limit: options.limit, edgeLimit: options.list > 0 ? options.edgeLimit : nil)
  search.progress = options.progress
  try search.run()
  let names = plan.order.map { plan.vars[$0].name }
  var result = Solutions(vars: names, fixed: options.fixed, count: search.total, listed: [], failure: nil)
  if search.total.isZero {
    // A second search keeping every var shows whole assignments near the failing constraint.
    var detail = search.failure
    if let keepPlan = try? SolverPlan(graph, fixed: options.fixed, keepAll: true) {
      var again = Search(graph: graph, plan: keepPlan, limit: options.limit, edgeLimit: nil)
      if (try? again.run()) != nil, let f = again.failure { detail = f }
      result.failure = detail.map { again.plan.describe($0, graph: graph) }
    }
    if result.failure == nil { result.failure = detail.map { plan.describe($0, graph: graph) } }
    return result
  }
  if options.list > 0 { result.listed = search.list(max: options.list) }
  return result
}

/// What the search learned at the node where every candidate failed.
struct FailureInfo {
  var node: Int
  var stage: StepFailure = .domain
  /// Near misses of a shape constraint: distance, the vars' values, the shape they gave.
  var nearest: [(distance: Int, env: [Int], shape: [Int])] = []
  /// The input shapes that reached the node.
  var inputs: [[Int]] = []
  /// The failing condition or budget limit.
  var which = 0
  /// For a budget: the smallest value reached and the values giving it.
  var closest: (value: Int, env: [Int])?
  /// A var with no candidates.
  var emptyVar: Int?
}

/// The layer-by-layer search.
struct Search {
  let graph: Graph
  let plan: SolverPlan
  let limit: Int
  let edgeLimit: Int?
  let metrics: [BudgetLimit.Metric]

  var env: [Int]
  /// See `SolveOptions.progress`.
  var progress: (@Sendable (Int, Int, Int) -> Void)?
  var total = BigCount.zero
  var failure: FailureInfo?
  var tried = 0
  /// Per layer: transitions kept for listing (prev state, next state, values picked).
  var edges: [(prev: [Int32], next: [Int32], width: Int, choices: [Int])] = []
  var keptEdges = 0
  var finalStates = 0

  init(graph: Graph, plan: SolverPlan, limit: Int, edgeLimit: Int?) {
    self.graph = graph
    self.plan = plan
    self.limit = limit
    self.edgeLimit = edgeLimit
    var seen: [BudgetLimit.Metric] = []
    for b in graph.budget where !seen.contains(b.metric) { seen.append(b.metric) }
    metrics = seen
    env = Array(repeating: SlotExpr.unbound, count: plan.slotOf.count)
  }

  mutating func run() throws(DiagnosticError) {
    var states: [[Int]] = [Array(repeating: 0, count: metrics.count)]
    var counts: [BigCount] = [BigCount(1)]
    let n = graph.nodes.count
    for i in 0..<n {
      progress?(i, n, states.count)
      let node = graph.nodes[i]
      let prevLive = i == 0 ? [] : plan.liveNodes[i - 1]
      let prevVars = i == 0 ? [] : plan.liveVars[i - 1]
      let introOrder = plan.order.filter { plan.vars[$0].intro == i }
      let derivedHere = plan.nodes[i].derived + (i == n - 1 ? plan.outputDerived : [])
      var index: [[Int]: Int] = [:]
      var nextStates: [[Int]] = []
      var nextCounts: [BigCount] = []
      var layerPrev: [Int32] = [], layerNext: [Int32] = [], layerChoices: [Int] = []
      var info = FailureInfo(node: i)
      var estimated = false

      for (si, state) in states.enumerated() {
        // Decode the state: shapes of live nodes, values of live vars, cost sums.
        for s in env.indices { env[s] = SlotExpr.unbound }
        for (slot, v) in plan.fixed { env[slot] = v }
        var resolved: [Int: ResolvedNode] = [:]
        var pos = 0
        for id in prevLive {
          let rank = state[pos], elided = state[pos + 1] == 1
          resolved[id] = ResolvedNode(shape: Array(state[(pos + 2)..<(pos + 2 + rank)]), elided: elided)
          pos += 2 + rank
        }
        for v in prevVars {
          env[plan.vars[v].slot] = state[pos]
          pos += 1
        }
        let costs = Array(state[pos...])
        let inputs = node.inputs.map { resolved[$0]! }
        let target = node.attributes.shortcutTarget.map { resolved[$0]!.shape }
        if info.inputs.count < 4, let x = inputs.first?.shape, !info.inputs.contains(x) { info.inputs.append(x) }

        if !estimated {
          estimated = true
          let size = estimate(node, inputs.first?.shape)
          let (whole, o) = size.multipliedReportingOverflow(by: states.count)
          if o || whole > limit { throw tooLarge(node, states: states.count, combinations: o ? Int.max : whole) }
        }

        // Pick the values of the vars introduced here, then step.
        try choose(0, node: node, inputs: inputs, info: &info) { (this: inout Search, info: inout FailureInfo) throws(DiagnosticError) in
          this.tried += 1
          if this.tried > this.limit { throw this.tooLarge(node, states: states.count, combinations: this.tried) }
          guard let (r, newCosts) = this.transition(node, inputs, target: target, costs: costs, info: &info) else { return }
          var key: [Int] = []
          for id in this.plan.liveNodes[i] {
            let rr = id == i ? r : resolved[id]!
            key.append(rr.shape.count)
            key.append(rr.elided ? 1 : 0)
            key += rr.shape
          }
          for v in this.plan.liveVars[i] { key.append(this.env[this.plan.vars[v].slot]) }
          key += newCosts
          let at: Int
          if let existing = index[key] {
            at = existing
            nextCounts[at].add(counts[si])
          } else {
            at = nextStates.count
            index[key] = at
            nextStates.append(key)
            nextCounts.append(counts[si])
            if nextStates.count > this.limit { throw this.tooLarge(node, states: nextStates.count, combinations: this.tried) }
          }
          if let edgeLimit = this.edgeLimit {
            layerPrev.append(Int32(si))
            layerNext.append(Int32(at))
            for v in introOrder { layerChoices.append(this.env[this.plan.vars[v].slot]) }
            this.keptEdges += 1
            if this.keptEdges > edgeLimit {
              throw DiagnosticError([
                .error(
                  .searchTooLarge, "listing the solutions would keep more than \(edgeLimit) transitions in memory", at: node.headRange,
                  notes: [.init("count them with `--count`, or narrow the vars' domains")])
              ])
            }
          }
          // Vars read off this node's shape are picked afresh by the next choice.
          for v in derivedHere { this.env[this.plan.vars[v].slot] = SlotExpr.unbound }
        }
      }
      if let _ = edgeLimit { edges.append((layerPrev, layerNext, introOrder.count, layerChoices)) }
      if nextStates.isEmpty {
        failure = info
        total = .zero
        return
      }
      states = nextStates
      counts = nextCounts
    }
    finalStates = states.count
    total = .zero
    for c in counts { total.add(c) }
  }

  /// Enumerates the values of the node's introduced vars, depth first, calling `body`
  /// with each full choice bound in `env`.
  mutating func choose(
    _ k: Int, node: Node, inputs: [ResolvedNode], info: inout FailureInfo,
    _ body: (inout Search, inout FailureInfo) throws(DiagnosticError) -> Void
  ) throws(DiagnosticError) {
    let introduced = plan.nodes[node.id].introduced
    if k == introduced.count {
      try body(&self, &info)
      return
    }
    let v = introduced[k]
    let slot = plan.vars[v].slot
    let values = candidates(v, node: node, x: inputs.first?.shape)
    if values.isEmpty && info.stage == .domain { info.emptyVar = v }
    for value in values {
      env[slot] = value
      try choose(k + 1, node: node, inputs: inputs, info: &info, body)
    }
    env[slot] = SlotExpr.unbound
  }

  /// Steps the node and checks its constraints; nil (with the failure noted) when the
  /// current choice fails.
  mutating func transition(_ node: Node, _ inputs: [ResolvedNode], target: [Int]?, costs: [Int], info: inout FailureInfo) -> (
    ResolvedNode, [Int]
  )? {
    let p = plan.nodes[node.id]
    var r: ResolvedNode
    switch plan.step(node, inputs, target: target, env: env) {
    case .failure(let f):
      info.stage = max(info.stage, f)
      return nil
    case .success(let res): r = res
    }
    if r.elided { r.shape = inputs[0].shape }
    var derivedHere: [Int] = []
    defer { for s in derivedHere { env[s] = SlotExpr.unbound } }
    if let pattern = p.expect {
      guard match(pattern, r.shape, derived: &derivedHere) else {
        note(.expect, pattern, r.shape, &info)
        return nil
      }
    }
    let last = node.id == graph.outputID
    if last, let pattern = plan.outputExpect {
      guard match(pattern, r.shape, derived: &derivedHere) else {
        note(.outputExpect, pattern, r.shape, &info)
        return nil
      }
    }
    for vi in p.derived + (last ? plan.outputDerived : []) where !inDomain(vi, env[plan.vars[vi].slot]) {
      info.stage = max(info.stage, .expect)
      return nil
    }
    for ci in p.conditions {
      let c = plan.conditions[ci]
      guard let a = c.lhs.evaluate(env), let b = c.rhs.evaluate(env), c.rel.holds(a, b) else {
        if info.stage <= .condition {
          if info.stage < .condition { info.nearest = [] }
          info.stage = .condition
          info.which = ci
          if info.nearest.count < 3 { info.nearest.append((0, env, r.shape)) }
        }
        return nil
      }
    }
    var newCosts = costs
    if !metrics.isEmpty {
      guard let cost = try? nodeCost(node, r, batch: 1) else {
        info.stage = max(info.stage, .budget)
        return nil
      }
      for (m, metric) in metrics.enumerated() {
        let add: Int
        switch metric {
        case .params: add = cost.params
        case .buffers: add = cost.buffers
        case .macs: add = cost.macs
        case .activations: add = cost.activations
        }
        let (s, o) = newCosts[m].addingReportingOverflow(add)
        guard !o else { return nil }
        newCosts[m] = s
      }
      for (bi, b) in graph.budget.enumerated() {
        let value = newCosts[metrics.firstIndex(of: b.metric)!]
        // Sums only grow: an upper limit can fail early; every limit is checked at the end.
        let early: Bool
        switch b.relation {
        case .le, .eq: early = value > b.bound
        case .lt: early = value >= b.bound
        default: early = false
        }
        if early || (last && !b.relation.holds(value, b.bound)) {
          let stage: StepFailure = last ? .finalBudget : .budget
          if info.stage <= stage {
            if info.stage < stage || info.which != bi { info.closest = nil }
            info.stage = stage
            info.which = bi
            let distance = abs(value - b.bound)
            if info.closest == nil || distance < abs(info.closest!.value - b.bound) { info.closest = (value, env) }
          }
          return nil
        }
      }
    } else if newCosts.isEmpty == false {
      newCosts = []
    }
    derivedHere = []  // keep the derived values bound for the state key
    return (r, newCosts)
  }

  /// Whether `shape` matches `pattern`, binding bare unbound vars to the extents they meet.
  mutating func match(_ pattern: [SlotExpr?], _ shape: [Int], derived: inout [Int]) -> Bool {
    guard pattern.count == shape.count else { return false }
    for (i, e) in pattern.enumerated() {
      guard let e else { continue }
      if let s = e.bareSlot, env[s] == SlotExpr.unbound {
        env[s] = shape[i]
        derived.append(s)
        continue
      }
      guard let want = e.evaluate(env), want == shape[i] else { return false }
    }
    return true
  }

  /// Records a near miss of a shape constraint, keeping the three closest.
  func note(_ stage: StepFailure, _ pattern: [SlotExpr?], _ shape: [Int], _ info: inout FailureInfo) {
    if info.stage > stage { return }
    if info.stage < stage { info.nearest = [] }
    info.stage = stage
    var distance = 0
    if pattern.count != shape.count {
      distance = Int.max / 2
    } else {
      for (i, e) in pattern.enumerated() {
        guard let e, let want = e.evaluate(env) else { continue }
        let (d, o) = want.subtractingReportingOverflow(shape[i])
        distance = o ? Int.max / 2 : min(Int.max / 2, distance + d.magnitude.clampedInt)
      }
    }
    if info.nearest.count < 3 || distance < info.nearest.last!.distance {
      if info.nearest.contains(where: { $0.shape == shape && $0.distance == distance }) { return }
      info.nearest.append((distance, env, shape))
      info.nearest.sort { $0.distance < $1.distance }
      if info.nearest.count > 3 { info.nearest.removeLast() }
    }
  }

  func inDomain(_ vi: Int, _ value: Int) -> Bool {
    let v = plan.vars[vi]
    guard value >= v.lower && value <= v.upper else { return false }
    switch v.domain {
    case .range(let r)?: return r.contains(value)
    case .list(let l)?: return l.contains(value)
    case nil: return true
    }
  }

  /// The values var `vi` may take at `node` with the current bindings.
  func candidates(_ vi: Int, node: Node, x: [Int]?) -> Candidates {
    let v = plan.vars[vi]
    let p = plan.nodes[node.id]
    if v.role == .count, let f = v.fixedBy, let want = f.evaluate(env) {
      var value = want
      if node.op == .dwconv {
        guard let cin = x?.last, cin > 0, want % cin == 0 else { return .list([]) }
        value = want / cin
      }
      return inDomain(vi, value) ? .list([value]) : .list([])
    }
    var lo = v.lower, hi = v.upper
    if let domain = v.domain {
      switch domain {
      case .range(let r): return .range(max(lo, r.lowerBound), min(hi, r.upperBound))
      case .list(let l): return .list(l.filter { $0 >= lo && $0 <= hi })
      }
    }
    guard let x, x.count >= 2 || [VarRole.count, .input, .other].contains(v.role) else { return .list([]) }
    let axes = x.count - 1
    func axesOf(_ exprs: [SlotExpr]) -> [Int] {
      if exprs.count == 1 { return exprs[0].bareSlot == v.slot ? Array(0..<axes) : [] }
      return exprs.indices.filter { exprs[$0].bareSlot == v.slot && $0 < axes }
    }
    switch v.role {
    case .kernel:
      var top = 0
      for a in axesOf(p.kernel) {
        var padded = x[a]
        if !p.same {
          for pads in [p.padBegin, p.padEnd] where !pads.isEmpty {
            let e = pads.count == 1 ? pads[0] : (a < pads.count ? pads[a] : .const(0))
            padded += e.evaluate(env) ?? maxDeclared(e) ?? 0
          }
        }
        top = max(top, padded)
      }
      lo = max(lo, 1); hi = min(hi, top)
    case .stride:
      lo = max(lo, 1); hi = min(hi, axesOf(p.stride).map { x[$0] }.max() ?? 0)
    case .dilation:
      lo = max(lo, 1); hi = min(hi, axesOf(p.dilation).map { x[$0] }.max() ?? 0)
    case .pad:
      var top = -1
      for a in Set(axesOf(p.padBegin) + axesOf(p.padEnd)) {
        let k = p.kernel.count == 1 ? p.kernel[0] : (a < p.kernel.count ? p.kernel[a] : .const(1))
        guard let kv = k.evaluate(env) else { return .list([]) }
        top = max(top, kv - 1)
      }
      lo = max(lo, 0); hi = min(hi, top)
    case .groups:
      let cin = x.last ?? 0
      guard cin > 0 else { return .list([]) }
      var divisors: [Int] = []
      var d = 1
      while d * d <= cin {
        if cin % d == 0 { divisors.append(d); if d != cin / d { divisors.append(cin / d) } }
        d += 1
      }
      return .list(divisors.sorted().filter { $0 >= lo && $0 <= hi })
    case .count:
      lo = max(lo, 1)
    case .input:
      lo = max(lo, 1)
    case .other, .shape:
      break
    }
    return lo <= hi ? .range(lo, hi) : .list([])
  }

  /// The largest value of a bare var's declared domain.
  func maxDeclared(_ e: SlotExpr) -> Int? {
    guard let s = e.bareSlot, let v = plan.vars.first(where: { $0.slot == s }) else { return nil }
    switch v.domain {
    case .range(let r)?: return min(r.upperBound, v.upper)
    case .list(let l)?: return l.max()
    case nil: return v.upper == Int.max ? nil : v.upper
    }
  }

  /// About how many combinations the node's vars have, judged on the current state.
  mutating func estimate(_ node: Node, _ x: [Int]?) -> Int {
    var size = 1
    var bound: [Int] = []
    for v in plan.nodes[node.id].introduced {
      let c = candidates(v, node: node, x: x)
      let (s, o) = size.multipliedReportingOverflow(by: max(1, c.count))
      size = o ? Int.max : s
      if let first = c.first {
        env[plan.vars[v].slot] = first
        bound.append(plan.vars[v].slot)
      }
    }
    for s in bound { env[s] = SlotExpr.unbound }
    return size
  }

  func tooLarge(_ node: Node, states: Int, combinations: Int) -> DiagnosticError {
    let names = plan.nodes[node.id].introduced.map { "`\(plan.vars[$0].name)`" }
    let size = combinations == Int.max ? "more than 9.2e18" : "about \(combinations)"
    return DiagnosticError([
      .error(
        .searchTooLarge,
        "the search is too large: at `\(node.name)` it would try \(size) combinations (\(counted(states, "shape")) reaching it\(names.isEmpty ? "" : " times the values of " + names.joined(separator: ", "))); the limit is \(limit)",
        at: node.headRange, notes: [.init("narrow the vars' domains in `vars:`, or add constraints (`->`, `where:`) that fix them")])
    ])
  }

  /// The first `max` solutions in lexicographic order of the vars (by layer, then
  /// declaration), walking kept transitions forward through states that reach the end.
  func list(max: Int) -> [[Int]] {
    let n = edges.count
    guard n == graph.nodes.count else { return [] }
    // Sort each layer's transitions by (prev, values) and index them by prev.
    var order: [[Int]] = []
    var starts: [[Int: Range<Int>]] = []
    for layer in edges {
      let w = layer.width
      let idx = layer.prev.indices.sorted { a, b in
        if layer.prev[a] != layer.prev[b] { return layer.prev[a] < layer.prev[b] }
        for t in 0..<w where layer.choices[a * w + t] != layer.choices[b * w + t] {
          return layer.choices[a * w + t] < layer.choices[b * w + t]
        }
        return false
      }
      var ranges: [Int: Range<Int>] = [:]
      var j = 0
      while j < idx.count {
        let p = Int(layer.prev[idx[j]])
        var k = j
        while k < idx.count && Int(layer.prev[idx[k]]) == p { k += 1 }
        ranges[p] = j..<k
        j = k
      }
      order.append(idx)
      starts.append(ranges)
    }
    // States that reach the end, from the last layer back.
    var alive: [Set<Int32>] = Array(repeating: [], count: n)
    alive[n - 1] = Set(edges[n - 1].next)
    for i in stride(from: n - 1, through: 1, by: -1) {
      var prev = Set<Int32>()
      for e in edges[i].prev.indices where alive[i].contains(edges[i].next[e]) { prev.insert(edges[i].prev[e]) }
      alive[i - 1] = prev
    }
    var out: [[Int]] = []
    var cursor = Array(repeating: 0, count: n)
    var end = Array(repeating: 0, count: n)
    var values: [[Int]] = Array(repeating: [], count: n)
    var layer = 0
    if let r = starts[0][0] { cursor[0] = r.lowerBound; end[0] = r.upperBound } else { return [] }
    while layer >= 0 && out.count < max {
      if cursor[layer] >= end[layer] {
        layer -= 1
        if layer >= 0 { cursor[layer] += 1 }
        continue
      }
      let e = order[layer][cursor[layer]]
      let next = edges[layer].next[e]
      guard alive[layer].contains(next) else {
        cursor[layer] += 1
        continue
      }
      let w = edges[layer].width
      values[layer] = Array(edges[layer].choices[(e * w)..<(e * w + w)])
      if layer == n - 1 {
        out.append(values.joined().map { $0 })
        cursor[layer] += 1
        continue
      }
      layer += 1
      if let r = starts[layer][Int(next)] {
        cursor[layer] = r.lowerBound; end[layer] = r.upperBound
      } else {
        cursor[layer] = 0; end[layer] = 0
      }
    }
    return out
  }
}

/// A var's candidate values: a range (iterated lazily) or a list.
enum Candidates: Sequence {
  case range(Int, Int)
  case list([Int])

  var count: Int {
    switch self {
    case .range(let a, let b):
      return b < a
        ? 0 : (b.subtractingReportingOverflow(a).overflow ? Int.max : Swift.max(0, (b - a).addingReportingOverflow(1).partialValue))
    case .list(let l): return l.count
    }
  }

  var isEmpty: Bool { count == 0 }
  var first: Int? {
    switch self {
    case .range(let a, let b): return a <= b ? a : nil
    case .list(let l): return l.first
    }
  }

  func makeIterator() -> AnyIterator<Int> {
    switch self {
    case .range(let a, let b):
      guard a <= b else { return AnyIterator { nil } }
      var next: Int? = a
      return AnyIterator {
        guard let v = next else { return nil }
        next = v < b ? v + 1 : nil
        return v
      }
    case .list(let l):
      return AnyIterator(l.makeIterator())
    }
  }
}

extension UInt {
  var clampedInt: Int { self > UInt(Int.max / 2) ? Int.max / 2 : Int(self) }
}
