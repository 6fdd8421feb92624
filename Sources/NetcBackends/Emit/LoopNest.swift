/// An index expression `v1 * c1 + v2 * c2 + k` with the zero terms left out.
func indexExpr(_ terms: [(String, Int)], _ constant: Int = 0) -> String {
  let parts = terms.filter { $0.1 != 0 }.map { $0.1 == 1 ? $0.0 : "\($0.0) * \($0.1)" }
  if parts.isEmpty { return "\(constant)" }
  let sum = parts.joined(separator: " + ")
  return constant == 0 ? sum : constant > 0 ? "\(sum) + \(constant)" : "\(sum) - \(-constant)"
}

/// Loop variables over ranges; a range of one value opens no loop, and its variable is
/// folded into the constant of index expressions.
struct LoopNest {
  var vars: [(name: String, from: Int, to: Int)]

  init(vars: [(name: String, extent: Int)]) { self.vars = vars.map { ($0.name, 0, $0.extent) } }
  init(ranges: [(name: String, from: Int, to: Int)]) { vars = ranges }

  /// `(name, coefficient)` terms for the variables that loop.
  func terms(_ coefficients: [Int]) -> [(String, Int)] {
    zip(vars, coefficients).filter { $0.0.to - $0.0.from > 1 }.map { ($0.0.name, $0.1) }
  }

  /// `sum(variable * coefficient) + constant`, with the variables that do not loop folded in.
  func index(_ coefficients: [Int], _ constant: Int = 0) -> String {
    let fixed = zip(vars, coefficients).filter { $0.0.to - $0.0.from == 1 }.reduce(0) { $0 + $1.0.from * $1.1 }
    return indexExpr(terms(coefficients), constant + fixed)
  }

  /// Opens the loops, writes `body` inside, closes them. `scoped`: a `do` block stands in
  /// when no loop opens, so that the body's names stay local.
  func write(_ w: inout SourceWriter, scoped: Bool = false, _ body: (inout SourceWriter) -> Void) {
    let open = vars.filter { $0.to - $0.from > 1 }
    if scoped && open.isEmpty {
      w.block("do") { w in body(&w) }
      return
    }
    func level(_ i: Int, _ w: inout SourceWriter) {
      if i == open.count {
        body(&w)
        return
      }
      w.block("for \(open[i].name) in \(open[i].from)..<\(open[i].to)") { w in level(i + 1, &w) }
    }
    level(0, &w)
  }
}
