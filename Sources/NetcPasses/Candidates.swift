import NetcDiagnostics
import NetcIR

/// A var's candidate values: a range (iterated lazily) or a list.
enum Candidates: Sequence {
  case range(Int, Int)
  case list([Int])

  var count: Int {
    switch self {
    case .range(let a, let b):
      // 0...Int.max holds one value more than Int.max: it counts as Int.max, not as the
      // wrapped sum (which read as no values and let the search start on 2^63 of them).
      guard b >= a else { return 0 }
      let (span, o1) = b.subtractingReportingOverflow(a)
      let (n, o2) = span.addingReportingOverflow(1)
      return o1 || o2 ? Int.max : n
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

extension Search {
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
  func candidates(_ vi: Int, node: Int, op: OpKind, x: [Int]?) -> Candidates {
    let v = plan.vars[vi]
    if v.role == .count, let f = v.fixedBy, let want = f.evaluate(env) {
      var value = want
      if op == .dwconv {
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
    let p = plan.nodes[node]
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
}
