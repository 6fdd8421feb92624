import NetcDiagnostics
import NetcIR

/// What a var stands for where it is first used; decides its default domain.
enum VarRole: Int, Comparable, Sendable {
  // Enumeration order inside one node: a pad's default (0..k-1) needs the kernel first.
  case input, other, count, groups, kernel, dilation, stride, pad
  /// Bound from a shape constraint (`-> ${h}x${h}x96`): read off the computed shape.
  case shape

  static func < (a: VarRole, b: VarRole) -> Bool { a.rawValue < b.rawValue }

  var noun: String {
    switch self {
    case .input: "an input extent"
    case .other: "a value"
    case .count: "a count"
    case .groups: "groups"
    case .kernel: "a kernel extent"
    case .dilation: "a dilation"
    case .stride: "a stride"
    case .pad: "a padding"
    case .shape: "an extent"
    }
  }
}

/// One unknown of the search. A class, as are the node plans: the search reads them at
/// every candidate, and a struct of many arrays would be copied there field by field.
final class SolverVar {
  var name: String
  var slot: Int
  /// The node where it is first used, where the search picks its value.
  var intro: Int
  var role: VarRole
  /// The declared domain, if any.
  var domain: VarDecl.Domain?
  /// Bounds from `where:` comparisons of the bare var with a constant.
  var lower = Int.min, upper = Int.max
  /// The last node whose step reads it (or checks a condition on it).
  var lastUse: Int
  /// Where it is declared.
  var range: SourceRange
  /// For a count: the channel extent that fixes it (`-> 66x66x96`), found by looking past
  /// layers that keep the channels.
  var fixedBy: SlotExpr?

  init(name: String, slot: Int, intro: Int, role: VarRole, domain: VarDecl.Domain?, lastUse: Int, range: SourceRange) {
    (self.name, self.slot, self.intro, self.role, self.domain, self.lastUse, self.range) =
      (name, slot, intro, role, domain, lastUse, range)
  }
}

/// A node's attributes compiled to slot expressions.
final class NodePlan {
  var op: OpKind = .input
  /// The attributes that no var changes (rounding, projection, ...): each step starts from them.
  var constant = RuleAttributes<Int>()
  var kernel: [SlotExpr] = []
  var stride: [SlotExpr] = []
  var dilation: [SlotExpr] = []
  var padBegin: [SlotExpr] = []
  var padEnd: [SlotExpr] = []
  var same = false
  var count: SlotExpr?
  var groups: SlotExpr?
  var integers: [IntegerAttribute: [SlotExpr]] = [:]
  /// The asserted shape: nil for `_`.
  var expect: [SlotExpr?]?
  /// Vars whose value the search picks here, in enumeration order (by role).
  var introduced: [Int] = []
  /// Vars read off this node's shape (bare vars in its `->` pattern, first used there).
  var derived: [Int] = []
  /// Conditions whose last var is picked here.
  var conditions: [Int] = []
}

/// The graph laid out for the search: slots, roles, liveness of nodes and vars.
struct SolverPlan {
  var vars: [SolverVar] = []
  var slotOf: [String: Int] = [:]
  var nodes: [NodePlan] = []
  /// Each input's shape, by its node.
  var inputShapes: [Int: [SlotExpr]] = [:]
  /// The input nodes that are token ids.
  var tokenInputs: Set<Int> = []
  var outputExpect: [SlotExpr?]?
  var outputDerived: [Int] = []
  var conditions: [(lhs: SlotExpr, rel: Condition.Relation, rhs: SlotExpr, cond: Condition)] = []
  /// Per node: the nodes whose shapes the state holds after it.
  var liveNodes: [[Int]] = []
  /// Per node: the vars (by index) whose values the state holds after it.
  var liveVars: [[Int]] = []
  /// Values fixed by `--set`, by slot.
  var fixed: [Int: Int] = [:]
  /// The free vars in output order: by the node that picks them, then declaration order.
  var order: [Int] = []

  /// Lays out `graph`; `keepAll` keeps every var in the state to the end (for reports
  /// that show whole assignments).
  init(_ graph: Graph, fixed fixedValues: [String: Int], keepAll: Bool) throws(DiagnosticError) {
    let declared = Dictionary(graph.vars.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    func slot(_ name: String) -> Int {
      if let s = slotOf[name] { return s }
      slotOf[name] = slotOf.count
      return slotOf.count - 1
    }
    // Every var the graph mentions gets a slot; declared order first, so that ties sort
    // by declaration.
    for decl in graph.vars { _ = slot(decl.name) }
    func mentions(_ e: SymExpr) { for v in e.variables.sorted() { _ = slot(v) } }
    for input in graph.allInputs { input.shape.forEach { mentions($0.expr) } }
    for node in graph.nodes {
      for v in allValues(node) { mentions(v.expr) }
      node.expect?.extents.forEach { if case .value(let v) = $0 { mentions(v.expr) } }
    }
    graph.outputExpect?.extents.forEach { if case .value(let v) = $0 { mentions(v.expr) } }
    for c in graph.conditions { mentions(c.lhs); mentions(c.rhs) }
    for (name, value) in fixedValues {
      guard let s = slotOf[name] else {
        throw DiagnosticError([.error(.undefinedVar, "`--set \(name)=\(value)`: the spec has no var `\(name)`", at: nil)])
      }
      fixed[s] = value
    }
    let compile = { [slotOf] (e: SymExpr) in SlotExpr(e, slots: slotOf) }

    // Where each var is first used, and how.
    var intro: [String: (node: Int, role: VarRole)] = [:]
    var lastUse: [String: Int] = [:]
    func use(_ e: SymExpr, node: Int, role: VarRole) {
      for v in e.variables where fixedValues[v] == nil {
        lastUse[v] = max(lastUse[v] ?? 0, node)
        let bare = e == .variable(v)
        if let seen = intro[v] {
          // Within the node that introduces it, a bare use decides the role.
          if seen.node == node && bare && (seen.role == .other || seen.role == .shape || role < seen.role) {
            intro[v] = (node, role)
          }
        } else {
          intro[v] = (node, bare ? role : .other)
        }
      }
    }
    for input in graph.allInputs { input.shape.forEach { use($0.expr, node: input.node, role: .input) } }
    for node in graph.nodes {
      let a = node.attributes
      a.kernel.forEach { use($0.expr, node: node.id, role: .kernel) }
      a.stride.forEach { use($0.expr, node: node.id, role: .stride) }
      a.dilation.forEach { use($0.expr, node: node.id, role: .dilation) }
      if case .explicit(let b, let e) = a.padding { (b + e).forEach { use($0.expr, node: node.id, role: .pad) } }
      if let c = a.count { use(c.expr, node: node.id, role: .count) }
      if let g = a.groups { use(g.expr, node: node.id, role: .groups) }
      for (key, values) in a.integers {
        let role: VarRole
        switch key {
        case .kvHeads, .headDim, .vocab, .experts, .topK: role = .count
        case .outputPadding, .size: role = .other
        }
        values.forEach { use($0.expr, node: node.id, role: role) }
      }
      node.expect?.extents.forEach { if case .value(let v) = $0 { use(v.expr, node: node.id, role: .shape) } }
    }
    let last = graph.outputID
    graph.outputExpect?.extents.forEach { if case .value(let v) = $0 { use(v.expr, node: last, role: .shape) } }
    for c in graph.conditions {
      for v in c.lhs.variables.union(c.rhs.variables) where fixedValues[v] == nil && intro[v] == nil {
        intro[v] = (0, .other)
        lastUse[v] = 0
      }
    }

    for name in slotOf.keys.sorted(by: { slotOf[$0]! < slotOf[$1]! }) {
      guard let (node, role) = intro[name] else { continue }
      let decl = declared[name]
      vars.append(
        SolverVar(
          name: name, slot: slotOf[name]!, intro: node, role: role, domain: decl?.domain,
          lastUse: keepAll ? last : lastUse[name] ?? node, range: decl?.range ?? graph.nodes[node].range))
    }
    let varIndex = Dictionary(uniqueKeysWithValues: vars.enumerated().map { ($1.name, $0) })

    // Conditions: checked where their last var is picked; they keep their vars alive.
    for (ci, c) in graph.conditions.enumerated() {
      conditions.append((compile(c.lhs), c.relation, compile(c.rhs), c))
      let vs = c.lhs.variables.union(c.rhs.variables).compactMap { varIndex[$0] }
      let at = vs.map { vars[$0].intro }.max() ?? 0
      for v in vs { vars[v].lastUse = max(vars[v].lastUse, at) }
      _ = ci
      // Bare var against a constant bounds the var's domain.
      if let bound = c.rhs.constant, case .variable(let n) = c.lhs, let v = varIndex[n] {
        narrow(&vars[v], c.relation, bound)
      } else if let bound = c.lhs.constant, case .variable(let n) = c.rhs, let v = varIndex[n] {
        narrow(&vars[v], c.relation.flipped, bound)
      }
    }

    // Node plans.
    nodes = graph.nodes.map { node in
      let a = node.attributes
      let p = NodePlan()
      p.op = node.op
      p.constant.rounding = a.rounding
      p.constant.isProjection = a.shortcutTarget != nil
      p.constant.sinusoidal = a.sinusoidal
      p.constant.index = a.index
      p.constant.tied = a.tiedTo != nil
      p.kernel = a.kernel.map { compile($0.expr) }
      p.stride = a.stride.map { compile($0.expr) }
      p.dilation = a.dilation.map { compile($0.expr) }
      switch a.padding {
      case .same: p.same = true
      case .explicit(let b, let e):
        p.padBegin = b.map { compile($0.expr) }
        p.padEnd = e.map { compile($0.expr) }
      }
      p.count = a.count.map { compile($0.expr) }
      p.groups = a.groups.map { compile($0.expr) }
      p.integers = a.integers.mapValues { $0.map { compile($0.expr) } }
      p.expect = node.expect.map { pattern in
        pattern.extents.map { if case .value(let v) = $0 { compile(v.expr) } else { nil } }
      }
      return p
    }
    for input in graph.allInputs {
      inputShapes[input.node] = input.shape.map { compile($0.expr) }
      if input.tokens { tokenInputs.insert(input.node) }
    }
    outputExpect = graph.outputExpect.map { pattern in
      pattern.extents.map { if case .value(let v) = $0 { compile(v.expr) } else { nil } }
    }
    for (vi, v) in vars.enumerated() {
      if v.role == .shape {
        if v.intro == last, nodes[last].expect?.contains(where: { $0?.bareSlot == v.slot }) != true {
          outputDerived.append(vi)
        } else {
          nodes[v.intro].derived.append(vi)
        }
      } else {
        nodes[v.intro].introduced.append(vi)
      }
    }
    for i in nodes.indices { nodes[i].introduced.sort { (vars[$0].role, vars[$0].slot) < (vars[$1].role, vars[$1].slot) } }
    for (ci, c) in graph.conditions.enumerated() {
      let vs = c.lhs.variables.union(c.rhs.variables).compactMap { varIndex[$0] }
      nodes[vs.map { vars[$0].intro }.max() ?? 0].conditions.append(ci)
    }
    order = vars.indices.sorted { (vars[$0].intro, vars[$0].slot) < (vars[$1].intro, vars[$1].slot) }

    // Counts: the channel extent asserted on the node, or past layers keeping channels.
    var readers: [[Int]] = Array(repeating: [], count: graph.nodes.count)
    for node in graph.nodes { for i in node.inputs { readers[i].append(node.id) } }
    for (vi, v) in vars.enumerated() where v.role == .count && graph.nodes[v.intro].op.traits.contains(.countsChannels) {
      var j = v.intro
      var pattern: [SlotExpr?]?
      while true {
        if let e = nodes[j].expect { pattern = e; break }
        if j == last, let e = outputExpect { pattern = e; break }
        guard readers[j].count == 1 else { break }
        let r = graph.nodes[readers[j][0]]
        guard r.op.traits.contains(.keepsChannels), r.attributes.shortcutTarget == nil else { break }
        j = r.id
      }
      if let pattern, let c = pattern.last ?? nil {
        // Usable when it reads only vars picked before this node.
        let earlier = c.slots.allSatisfy { s in fixed[s] != nil || vars.contains { $0.slot == s && $0.intro < v.intro } }
        if earlier { vars[vi].fixedBy = c }
      }
    }

    // Unbounded vars: reported, never guessed.
    var unbounded: [Diagnostic] = []
    for v in vars where v.domain == nil {
      let needsBounds: Bool
      switch v.role {
      case .count: needsBounds = v.fixedBy == nil && v.upper == Int.max
      case .input, .other: needsBounds = v.upper == Int.max || (v.role == .other && v.lower == Int.min)
      default: needsBounds = false
      }
      if needsBounds {
        let node = graph.nodes[v.intro]
        let what =
          v.role == .count
          ? "the \(node.op.definition.spelling?.countNoun ?? "filters") of `\(node.name)`"
          : v.role == .input ? "an input extent" : "a value nothing bounds"
        unbounded.append(
          .error(
            .unboundedVar, "`\(v.name)` is unbounded: it is \(what) and no constraint fixes it", at: v.range,
            notes: [.init("give it a domain in `vars:`, such as `\(v.name): 1..512`, or constrain it with `->` or `where:`")]))
      }
    }
    if !unbounded.isEmpty { throw DiagnosticError(unbounded) }

    // Liveness of node outputs and vars after each node.
    var lastRead = Array(repeating: -1, count: graph.nodes.count)
    for node in graph.nodes {
      for i in node.inputs { lastRead[i] = max(lastRead[i], node.id) }
      if let t = node.attributes.shortcutTarget { lastRead[t] = max(lastRead[t], node.id) }
    }
    lastRead[last] = Int.max
    liveNodes = graph.nodes.indices.map { i in (0...i).filter { lastRead[$0] > i } }
    liveVars = graph.nodes.indices.map { i in order.filter { vars[$0].intro <= i && (vars[$0].lastUse > i || i == last) } }
  }

  private func narrow(_ v: inout SolverVar, _ rel: Condition.Relation, _ c: Int) {
    switch rel {
    case .eq: v.lower = max(v.lower, c); v.upper = min(v.upper, c)
    case .le: v.upper = min(v.upper, c)
    case .lt: v.upper = min(v.upper, c == .min ? c : c - 1)
    case .ge: v.lower = max(v.lower, c)
    case .gt: v.lower = max(v.lower, c == .max ? c : c + 1)
    case .ne: break
    }
  }
}

/// Every integer attribute of a node.
func allValues(_ node: Node) -> [SymValue] {
  let a = node.attributes
  var out = a.kernel + a.stride + a.dilation
  if case .explicit(let b, let e) = a.padding { out += b + e }
  if let c = a.count { out.append(c) }
  if let g = a.groups { out.append(g) }
  for key in IntegerAttribute.allCases { out += a.integers[key] ?? [] }
  return out
}

extension Condition.Relation {
  /// The relation with its sides swapped: `3 <= k` is `k >= 3`.
  var flipped: Condition.Relation {
    switch self {
    case .eq, .ne: self
    case .le: .ge
    case .ge: .le
    case .lt: .gt
    case .gt: .lt
    }
  }
}

extension SlotExpr {
  /// The slots the expression reads.
  var slots: [Int] {
    switch self {
    case .const: []
    case .slot(let i): [i]
    case .neg(let a): a.slots
    case .add(let a, let b), .sub(let a, let b), .mul(let a, let b), .floorDiv(let a, let b), .mod(let a, let b): a.slots + b.slots
    }
  }
}
