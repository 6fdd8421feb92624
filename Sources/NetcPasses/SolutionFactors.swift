/// A solution set split into vars that vary independently of the rest, and the rest: a
/// var is independent when the set is its values times the rest's combinations.
public struct SolutionFactors: Sendable {
  /// Independent vars (by index into `Solutions.vars`) and their values, ascending.
  public var independent: [(index: Int, values: [Int])]
  /// The other vars, by index; their combinations are `combinations`.
  public var dependent: [Int]
  /// The distinct combinations of the dependent vars, in listing order.
  public var combinations: [[Int]]
}

/// Factors a complete list of solutions (each a value per var). Exact: a var counts as
/// independent only when |set| = |its values| x |combinations of the others|.
public func factorSolutions(_ solutions: [[Int]], varCount: Int) -> SolutionFactors {
  var independent: [(Int, [Int])] = []
  var rest = Array(0..<varCount)
  var current = solutions
  var changed = true
  while changed && rest.count > 1 {
    changed = false
    for (pos, v) in rest.enumerated() {
      let values = Set(current.map { $0[pos] })
      var others = Set<[Int]>()
      for s in current {
        var o = s
        o.remove(at: pos)
        others.insert(o)
      }
      if values.count * others.count == current.count && values.count > 0 {
        independent.append((v, values.sorted()))
        rest.remove(at: pos)
        var seen = Set<[Int]>()
        var reduced: [[Int]] = []
        for s in current {
          var o = s
          o.remove(at: pos)
          if seen.insert(o).inserted { reduced.append(o) }
        }
        current = reduced
        changed = true
        break
      }
    }
  }
  if rest.count == 1 {
    independent.append((rest[0], Set(current.map { $0[0] }).sorted()))
    rest = []
    current = []
  }
  independent.sort { $0.0 < $1.0 }
  return SolutionFactors(independent: independent, dependent: rest, combinations: current)
}
