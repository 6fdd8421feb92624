/// Simplification of symbolic integers to a canonical polynomial form, exactly: sums and
/// products are expanded and like terms collected; a floor division or modulo is folded
/// only when that is exact (constants, or every coefficient divisible by the divisor), and
/// otherwise kept as an opaque term with simplified operands.
extension SymExpr {
  /// The simplest equal expression this simplifier finds.
  public var simplified: SymExpr {
    let p = Polynomial(self)
    return p.overflow ? self : p.expression
  }

  /// Text for people: `⌊(205 - k)/3⌋ + 1`, `960·k² + 96`.
  public var pretty: String { simplified.prettyText(0) }

  private func prettyText(_ parent: Int) -> String {
    // Precedence: 1 sum, 2 product, 3 power/atom.
    switch self {
    case .const(let v): return v < 0 && parent > 1 ? "(\(v))" : String(v)
    case .variable(let n): return n
    case .add(let a, let b):
      let t: String
      if case .neg(let nb) = b {
        t = a.prettyText(1) + " - " + nb.prettyText(2)
      } else if case .const(let c) = b, c < 0 {
        t = a.prettyText(1) + " - " + String(-c)
      } else if case .mul(.const(let c), let rest) = b, c < 0 {
        t = a.prettyText(1) + " - " + (c == -1 ? rest.prettyText(2) : SymExpr.mul(.const(-c), rest).prettyText(2))
      } else {
        t = a.prettyText(1) + " + " + b.prettyText(1)
      }
      return parent > 1 ? "(\(t))" : t
    case .sub(let a, let b):
      let t = a.prettyText(1) + " - " + b.prettyText(2)
      return parent > 1 ? "(\(t))" : t
    case .mul:
      // x·x·x as x³.
      var factors: [SymExpr] = []
      func flatten(_ e: SymExpr) { if case .mul(let l, let r) = e { flatten(l); flatten(r) } else { factors.append(e) } }
      flatten(self)
      var parts: [String] = []
      var i = 0
      while i < factors.count {
        var j = i
        while j + 1 < factors.count && factors[j + 1] == factors[i] { j += 1 }
        let base = factors[i].prettyText(3)
        parts.append(j > i ? base + SymExpr.superscript(j - i + 1) : base)
        i = j + 1
      }
      let t = parts.joined(separator: "·")
      return parent > 2 ? "(\(t))" : t
    case .floorDiv(let a, let b): return "⌊" + a.prettyText(2) + "/" + b.prettyText(3) + "⌋"
    case .mod(let a, let b):
      let t = a.prettyText(2) + " mod " + b.prettyText(3)
      return parent > 1 ? "(\(t))" : t
    case .neg(let a): return "-" + a.prettyText(3)
    }
  }

  private static func superscript(_ n: Int) -> String {
    let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
    return String(String(n).compactMap { $0.wholeNumberValue.map { digits[$0] } })
  }
}

/// A sum of integer multiples of monomials; a monomial is a sorted list of atoms (vars, or
/// opaque floor divisions and modulos).
struct Polynomial {
  /// Coefficient by monomial; the empty monomial is the constant term.
  var terms: [[SymExpr]: Int] = [:]
  /// Set when arithmetic overflowed: the original expression is kept.
  var overflow = false

  init(constant: Int) { if constant != 0 { terms[[]] = constant } }
  init(atom: SymExpr) { terms[[atom]] = 1 }

  init(_ e: SymExpr) {
    switch e {
    case .const(let v): self.init(constant: v)
    case .variable: self.init(atom: e)
    case .add(let a, let b): self = Polynomial(a).plus(Polynomial(b), sign: 1)
    case .sub(let a, let b): self = Polynomial(a).plus(Polynomial(b), sign: -1)
    case .neg(let a): self = Polynomial(constant: 0).plus(Polynomial(a), sign: -1)
    case .mul(let a, let b): self = Polynomial(a).times(Polynomial(b))
    case .floorDiv(let a, let b), .mod(let a, let b):
      let pa = Polynomial(a), pb = Polynomial(b)
      let isDiv: Bool = { if case .floorDiv = e { return true } else { return false } }()
      if let d = pb.constant, d != 0, !pa.overflow {
        if let n = pa.constant {
          self.init(constant: isDiv ? SymExpr.floorDivide(n, d) : n - SymExpr.floorDivide(n, d) * d)
          return
        }
        if d == 1 {
          self = isDiv ? pa : Polynomial(constant: 0)
          return
        }
        // Every coefficient divisible by d: the division is exact.
        if pa.terms.values.allSatisfy({ $0 % d == 0 }) {
          if isDiv {
            var q = Polynomial(constant: 0)
            for (m, c) in pa.terms { q.terms[m] = c / d }
            self = q
          } else {
            self.init(constant: 0)
          }
          return
        }
      }
      let atom: SymExpr = isDiv ? .floorDiv(pa.expression, pb.expression) : .mod(pa.expression, pb.expression)
      self.init(atom: atom)
    }
  }

  var constant: Int? {
    if terms.isEmpty { return 0 }
    if terms.count == 1, let c = terms[[]] { return c }
    return nil
  }

  func plus(_ other: Polynomial, sign: Int) -> Polynomial {
    var out = self
    out.overflow = overflow || other.overflow
    for (m, c) in other.terms {
      let (sc, o1) = c.multipliedReportingOverflow(by: sign)
      let (s, o2) = (out.terms[m] ?? 0).addingReportingOverflow(sc)
      if o1 || o2 { out.overflow = true; continue }
      out.terms[m] = s == 0 ? nil : s
    }
    return out
  }

  /// Whether a term holds a floor division or modulo.
  var hasOpaque: Bool {
    terms.keys.contains { $0.contains { if case .variable = $0 { false } else { true } } }
  }

  /// A sum holding floors stays one factor: `(⌊(205 - k)/3⌋ + 1)²` rather than its expansion.
  var factor: Polynomial { hasOpaque && terms.count > 1 ? Polynomial(atom: expression) : self }

  func times(_ other: Polynomial) -> Polynomial {
    let a = factor, b = other.factor
    guard a.terms.count > 0 || b.terms.count > 0 else { return Polynomial(constant: 0) }
    return a.expandedTimes(b)
  }

  private func expandedTimes(_ other: Polynomial) -> Polynomial {
    var out = Polynomial(constant: 0)
    out.overflow = overflow || other.overflow
    for (m1, c1) in terms {
      for (m2, c2) in other.terms {
        let m = (m1 + m2).sorted { $0.description < $1.description }
        let (p, o1) = c1.multipliedReportingOverflow(by: c2)
        let (s, o2) = (out.terms[m] ?? 0).addingReportingOverflow(p)
        if o1 || o2 { out.overflow = true; continue }
        out.terms[m] = s == 0 ? nil : s
      }
    }
    return out
  }

  /// Back to an expression: higher degree first, then by text; constant last.
  var expression: SymExpr {
    let ordered = terms.keys.sorted { a, b in
      if a.count != b.count { return a.count > b.count }
      return a.map(\.description).joined(separator: "*") < b.map(\.description).joined(separator: "*")
    }
    var ordered2 = ordered
    if let c = terms[[]], c > 0, let lead = ordered.first, !lead.isEmpty, terms[lead]! < 0 {
      ordered2 = [[]] + ordered.filter { !$0.isEmpty }
    }
    var out: SymExpr?
    for m in ordered2 {
      let c = terms[m]!
      var term: SymExpr
      if m.isEmpty {
        term = .const(c)
      } else {
        var product = m[0]
        for a in m.dropFirst() { product = .mul(product, a) }
        term = c == 1 ? product : .mul(.const(c), product)
      }
      if let sum = out {
        if case .const(let v) = term, v < 0 {
          out = .sub(sum, .const(-v))
        } else if case .mul(.const(let v), let rest) = term, v < 0 {
          out = .sub(sum, v == -1 ? rest : .mul(.const(-v), rest))
        } else {
          out = .add(sum, term)
        }
      } else {
        out = term == .const(0) ? nil : term
        if case .mul(.const(-1), let rest) = term { out = .neg(rest) }
      }
    }
    return out ?? .const(0)
  }
}
