import NetcDiagnostics
import NetcIR

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
  /// The batch the memory budgets count at (the budget's `batch`, bound before the search).
  var budgetBatch = 1
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
    var states = [SearchState(costs: Array(repeating: 0, count: metrics.count))]
    var counts: [BigCount] = [BigCount(1)]
    let n = graph.nodes.count
    for i in 0..<n {
      progress?(i, n, states.count)
      let node = graph.nodes[i]
      let prevLive = i == 0 ? [] : plan.liveNodes[i - 1]
      let prevVars = i == 0 ? [] : plan.liveVars[i - 1]
      let introOrder = plan.order.filter { plan.vars[$0].intro == i }
      let derivedHere = plan.nodes[i].derived + (i == n - 1 ? plan.outputDerived : [])
      var index: [SearchState: Int] = [:]
      var nextStates: [SearchState] = []
      var nextCounts: [BigCount] = []
      var layerPrev: [Int32] = [], layerNext: [Int32] = [], layerChoices: [Int] = []
      var info = FailureInfo(node: i)
      var estimated = false

      for (si, state) in states.enumerated() {
        for s in env.indices { env[s] = SlotExpr.unbound }
        for (slot, v) in plan.fixed { env[slot] = v }
        let (resolved, values, costs) = state.unpack(liveNodes: prevLive, vars: prevVars.count)
        for (v, value) in zip(prevVars, values) { env[plan.vars[v].slot] = value }
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
        // The body reads the node by its id: capturing the `Node` value would copy it for every state.
        try choose(0, node: i, op: node.op, inputs: inputs, info: &info) {
          (this: inout Search, info: inout FailureInfo) throws(DiagnosticError) in
          this.tried += 1
          if this.tried > this.limit { throw this.tooLarge(this.graph.nodes[i], states: states.count, combinations: this.tried) }
          guard let (r, newCosts) = this.transition(i, inputs, target: target, costs: costs, info: &info) else { return }
          var key = SearchState()
          for id in this.plan.liveNodes[i] { key.append(id == i ? r : resolved[id]!) }
          for v in this.plan.liveVars[i] { key.append(value: this.env[this.plan.vars[v].slot]) }
          key.append(costs: newCosts)
          let at: Int
          if let existing = index[key] {
            at = existing
            nextCounts[at].add(counts[si])
          } else {
            at = nextStates.count
            index[key] = at
            nextStates.append(key)
            nextCounts.append(counts[si])
            if nextStates.count > this.limit {
              throw this.tooLarge(this.graph.nodes[i], states: nextStates.count, combinations: this.tried)
            }
          }
          if let edgeLimit = this.edgeLimit {
            layerPrev.append(Int32(si))
            layerNext.append(Int32(at))
            for v in introOrder { layerChoices.append(this.env[this.plan.vars[v].slot]) }
            this.keptEdges += 1
            if this.keptEdges > edgeLimit {
              throw DiagnosticError([
                .error(
                  .searchTooLarge, "listing the solutions would keep more than \(edgeLimit) transitions in memory",
                  at: this.graph.nodes[i].headRange,
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
    _ k: Int, node: Int, op: OpKind, inputs: [ResolvedNode], info: inout FailureInfo,
    _ body: (inout Search, inout FailureInfo) throws(DiagnosticError) -> Void
  ) throws(DiagnosticError) {
    let introduced = plan.nodes[node].introduced
    if k == introduced.count {
      try body(&self, &info)
      return
    }
    let v = introduced[k]
    let slot = plan.vars[v].slot
    let values = candidates(v, node: node, op: op, x: inputs.first?.shape)
    if values.isEmpty && info.stage == .domain { info.emptyVar = v }
    for value in values {
      env[slot] = value
      try choose(k + 1, node: node, op: op, inputs: inputs, info: &info, body)
    }
    env[slot] = SlotExpr.unbound
  }

  /// Steps the node and checks its constraints; nil (with the failure noted) when the
  /// current choice fails.
  mutating func transition(_ node: Int, _ inputs: [ResolvedNode], target: [Int]?, costs: [Int], info: inout FailureInfo) -> (
    ResolvedNode, [Int]
  )? {
    let p = plan.nodes[node]
    var r: ResolvedNode
    switch plan.step(node, inputs, target: target, env: env) {
    case .failure(let f):
      info.stage = max(info.stage, f)
      return nil
    case .success(let res): r = res
    }
    var derivedHere: [Int] = []
    defer { for s in derivedHere { env[s] = SlotExpr.unbound } }
    if let pattern = p.expect {
      guard match(pattern, r.shape, derived: &derivedHere) else {
        note(.expect, pattern, r.shape, &info)
        return nil
      }
    }
    let last = node == graph.outputID
    if last, let pattern = plan.outputExpect {
      guard match(pattern, r.shape, derived: &derivedHere) else {
        note(.outputExpect, pattern, r.shape, &info)
        return nil
      }
    }
    for vi in p.derived where !inDomain(vi, env[plan.vars[vi].slot]) {
      info.stage = max(info.stage, .expect)
      return nil
    }
    if last {
      for vi in plan.outputDerived where !inDomain(vi, env[plan.vars[vi].slot]) {
        info.stage = max(info.stage, .expect)
        return nil
      }
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
      guard let cost = try? nodeCost(graph.nodes[node], r, batch: 1) else {
        info.stage = max(info.stage, .budget)
        return nil
      }
      for (m, metric) in metrics.enumerated() {
        guard let add = budgetValue(metric, cost, precision: graph.budgetPrecision, batch: budgetBatch) else { return nil }
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

  /// About how many combinations the node's vars have, judged on the current state.
  mutating func estimate(_ node: Node, _ x: [Int]?) -> Int {
    var size = 1
    var bound: [Int] = []
    for v in plan.nodes[node.id].introduced {
      let c = candidates(v, node: node.id, op: node.op, x: x)
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
}

extension UInt {
  var clampedInt: Int { self > UInt(Int.max / 2) ? Int.max / 2 : Int(self) }
}
