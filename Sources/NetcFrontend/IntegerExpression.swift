import NetcDiagnostics
import NetcIR

/// Parses integer expressions (`4*mid + 1`, `$k // 2`) and comparisons (`p <= k // 2`)
/// written in `${...}`, `where:` and plain numbers. Names resolve through a closure, so
/// block parameters and vars are looked up by the caller's scope.
struct IntegerExpression {
  typealias Resolver = (_ name: String, _ range: SourceRange) throws(DiagnosticError) -> SymExpr

  private let scalars: [Unicode.Scalar]
  private let base: SourceRange
  private let resolve: Resolver
  private var position = 0

  /// Prepares to parse `text`, whose first character is at `base.start`.
  init(_ text: String, at base: SourceRange, resolve: @escaping Resolver) {
    self.scalars = Array(text.unicodeScalars)
    self.base = base
    self.resolve = resolve
  }

  /// Parses a whole expression.
  static func parse(
    _ text: String, at base: SourceRange, resolve: @escaping Resolver
  ) throws(DiagnosticError) -> SymExpr {
    var parser = IntegerExpression(text, at: base, resolve: resolve)
    let expr = try parser.expression()
    try parser.expectEnd()
    return expr
  }

  /// Parses `lhs REL rhs`.
  static func parseCondition(
    _ text: String, at base: SourceRange, resolve: @escaping Resolver
  ) throws(DiagnosticError) -> Condition {
    var parser = IntegerExpression(text, at: base, resolve: resolve)
    let lhs = try parser.expression()
    parser.skipSpaces()
    let opStart = parser.position
    var relation: Condition.Relation?
    for candidate in [Condition.Relation.eq, .ne, .le, .ge, .lt, .gt] where parser.consume(candidate.rawValue) {
      relation = candidate
      break
    }
    guard let relation else {
      throw parser.error(
        "expected a comparison (==, !=, <, <=, >, >=) after `\(lhs)`", at: opStart,
        length: 1)
    }
    let rhs = try parser.expression()
    try parser.expectEnd()
    return Condition(lhs: lhs, relation: relation, rhs: rhs, range: base)
  }

  /// Parses a decimal integer with overflow checking, for values written as plain words.
  static func integer(_ text: String, at range: SourceRange) throws(DiagnosticError) -> Int {
    var digits = Substring(text)
    var negative = false
    if digits.first == "-" || digits.first == "+" {
      negative = digits.first == "-"
      digits = digits.dropFirst()
    }
    guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
      throw DiagnosticError([.error(.invalidValue, "expected an integer, found `\(text)`", at: range)])
    }
    var value = 0
    for d in digits.utf8 {
      let (m, o1) = value.multipliedReportingOverflow(by: 10)
      let (s, o2) = m.addingReportingOverflow(Int(d - 48))
      if o1 || o2 {
        throw DiagnosticError([
          .error(.overflow, "the number `\(text.count > 30 ? String(text.prefix(30)) + "…" : text)` does not fit in 64 bits", at: range)
        ])
      }
      value = s
    }
    return negative ? -value : value
  }

  private mutating func expression() throws(DiagnosticError) -> SymExpr {
    var lhs = try term()
    while true {
      skipSpaces()
      if consume("+") {
        lhs = fold(.add(lhs, try term()))
      } else if peek("-") && !peek("->") {
        position += 1
        lhs = fold(.sub(lhs, try term()))
      } else {
        return lhs
      }
    }
  }

  private mutating func term() throws(DiagnosticError) -> SymExpr {
    var lhs = try unary()
    while true {
      skipSpaces()
      if consume("*") {
        lhs = fold(.mul(lhs, try unary()))
      } else if consume("//") {
        lhs = fold(.floorDiv(lhs, try unary()))
      } else if consume("%") {
        lhs = fold(.mod(lhs, try unary()))
      } else if peek("/") {
        throw error("use `//` for floor division; `/` is not an integer operation", at: position, length: 1)
      } else {
        return lhs
      }
    }
  }

  private mutating func unary() throws(DiagnosticError) -> SymExpr {
    skipSpaces()
    if consume("-") { return fold(.neg(try unary())) }
    if consume("+") { return try unary() }
    return try primary()
  }

  private mutating func primary() throws(DiagnosticError) -> SymExpr {
    skipSpaces()
    let start = position
    guard position < scalars.count else {
      throw error("expected a number, a name or `(` at the end of the expression", at: start, length: 1)
    }
    let c = scalars[position]
    if c == "(" {
      position += 1
      let inner = try expression()
      skipSpaces()
      guard consume(")") else { throw error("expected `)`", at: position, length: 1) }
      return inner
    }
    if c.properties.numericType != nil && c.isASCII {
      while position < scalars.count, scalars[position].isASCII,
        scalars[position].properties.numericType != nil
      {
        position += 1
      }
      let text = String(String.UnicodeScalarView(scalars[start..<position]))
      return .const(try Self.integer(text, at: slice(start, position - start)))
    }
    if c == "$" { position += 1 }
    let nameStart = position
    while position < scalars.count, Self.isNameScalar(scalars[position], first: position == nameStart) {
      position += 1
    }
    guard position > nameStart else {
      // `$` alone, or `$` before a character that cannot start a name (found by fuzzing:
      // `pad $` read past the end of the text).
      guard position < scalars.count else { throw error("expected a name after `$`", at: start, length: 1) }
      throw error("unexpected `\(Character(scalars[position]))` in an integer expression", at: position, length: 1)
    }
    let name = String(String.UnicodeScalarView(scalars[nameStart..<position]))
    return try resolve(name, slice(start, position - start))
  }

  /// True for characters of a var or parameter name.
  static func isNameScalar(_ c: Unicode.Scalar, first: Bool) -> Bool {
    c == "_" || (c.isASCII && c.properties.isAlphabetic)
      || (!first && c.isASCII && c.properties.numericType != nil)
  }

  /// Constant subexpressions are folded where it is exact, so `${2*32}` reads as 64.
  private func fold(_ e: SymExpr) -> SymExpr {
    if e.variables.isEmpty, let v = try? e.evaluate([:]) { return .const(v) }
    return e
  }

  private mutating func skipSpaces() {
    while position < scalars.count, scalars[position] == " " || scalars[position] == "\t" {
      position += 1
    }
  }

  private func peek(_ s: String) -> Bool {
    let p = Array(s.unicodeScalars)
    guard position + p.count <= scalars.count else { return false }
    return Array(scalars[position..<position + p.count]) == p
  }

  private mutating func consume(_ s: String) -> Bool {
    guard peek(s) else { return false }
    position += s.unicodeScalars.count
    return true
  }

  private mutating func expectEnd() throws(DiagnosticError) {
    skipSpaces()
    if position < scalars.count {
      throw error(
        "unexpected `\(String(String.UnicodeScalarView(scalars[position...])))` after the expression",
        at: position, length: scalars.count - position)
    }
  }

  private func slice(_ offset: Int, _ length: Int) -> SourceRange {
    base.slice(offset: offset, length: max(1, length))
  }

  private func error(_ message: String, at offset: Int, length: Int) -> DiagnosticError {
    DiagnosticError([.error(.shorthandSyntax, message, at: slice(offset, length))])
  }
}
