/// A symbolic integer: a constant, a var, or arithmetic over them with floor division.
///
/// Every integer attribute of the IR is a `SymExpr`, so one graph serves both `analyze`
/// (all vars bound) and `solve` (vars free).
public indirect enum SymExpr: Hashable, Sendable {
  case const(Int)
  case variable(String)
  case add(SymExpr, SymExpr)
  case sub(SymExpr, SymExpr)
  case mul(SymExpr, SymExpr)
  case floorDiv(SymExpr, SymExpr)
  case mod(SymExpr, SymExpr)
  case neg(SymExpr)

  /// Why an expression has no value.
  public enum EvaluationError: Error, Equatable, Sendable {
    case unbound(String)
    case overflow
    case divisionByZero
  }

  /// The value under `env`, with every operation overflow-checked.
  public func evaluate(_ env: [String: Int]) throws(EvaluationError) -> Int {
    switch self {
    case .const(let v): return v
    case .variable(let name):
      guard let v = env[name] else { throw .unbound(name) }
      return v
    case .neg(let a):
      let (r, o) = 0.subtractingReportingOverflow(try a.evaluate(env))
      if o { throw .overflow }
      return r
    case .add(let a, let b):
      let (r, o) = try a.evaluate(env).addingReportingOverflow(try b.evaluate(env))
      if o { throw .overflow }
      return r
    case .sub(let a, let b):
      let (r, o) = try a.evaluate(env).subtractingReportingOverflow(try b.evaluate(env))
      if o { throw .overflow }
      return r
    case .mul(let a, let b):
      let (r, o) = try a.evaluate(env).multipliedReportingOverflow(by: try b.evaluate(env))
      if o { throw .overflow }
      return r
    case .floorDiv(let a, let b):
      let x = try a.evaluate(env)
      let y = try b.evaluate(env)
      guard y != 0 else { throw .divisionByZero }
      if x == .min && y == -1 { throw .overflow }
      return SymExpr.floorDivide(x, y)
    case .mod(let a, let b):
      let x = try a.evaluate(env)
      let y = try b.evaluate(env)
      guard y != 0 else { throw .divisionByZero }
      if x == .min && y == -1 { return 0 }
      return x - SymExpr.floorDivide(x, y) * y
    }
  }

  /// Floor division (rounds toward negative infinity, as Python's `//`).
  public static func floorDivide(_ x: Int, _ y: Int) -> Int {
    let q = x / y
    return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q
  }

  /// The constant value, when the expression has no vars and evaluates.
  public var constant: Int? {
    if case .const(let v) = self { return v }
    guard variables.isEmpty else { return nil }
    return try? evaluate([:])
  }

  /// The vars the expression mentions.
  public var variables: Set<String> {
    var out = Set<String>()
    collectVariables(into: &out)
    return out
  }

  private func collectVariables(into out: inout Set<String>) {
    switch self {
    case .const: break
    case .variable(let n): out.insert(n)
    case .neg(let a): a.collectVariables(into: &out)
    case .add(let a, let b), .sub(let a, let b), .mul(let a, let b), .floorDiv(let a, let b),
      .mod(let a, let b):
      a.collectVariables(into: &out)
      b.collectVariables(into: &out)
    }
  }

  /// The expression with vars replaced by expressions (block arguments, bound vars).
  public func substituting(_ bindings: [String: SymExpr]) -> SymExpr {
    switch self {
    case .const: return self
    case .variable(let n): return bindings[n] ?? self
    case .neg(let a): return .neg(a.substituting(bindings))
    case .add(let a, let b): return .add(a.substituting(bindings), b.substituting(bindings))
    case .sub(let a, let b): return .sub(a.substituting(bindings), b.substituting(bindings))
    case .mul(let a, let b): return .mul(a.substituting(bindings), b.substituting(bindings))
    case .floorDiv(let a, let b):
      return .floorDiv(a.substituting(bindings), b.substituting(bindings))
    case .mod(let a, let b): return .mod(a.substituting(bindings), b.substituting(bindings))
    }
  }
}

extension SymExpr: CustomStringConvertible {
  /// Infix text with the fewest parentheses that keep the meaning: `4*mid + 1`.
  public var description: String { render(parentPrecedence: 0) }

  private var precedence: Int {
    switch self {
    case .const(let v): return v < 0 ? 3 : 4
    case .variable: return 4
    case .add, .sub: return 1
    case .mul, .floorDiv, .mod: return 2
    case .neg: return 3
    }
  }

  private func render(parentPrecedence: Int, rightOperand: Bool = false) -> String {
    let text: String
    switch self {
    case .const(let v): text = String(v)
    case .variable(let n): text = n
    case .neg(let a): text = "-" + a.render(parentPrecedence: 3)
    case .add(let a, let b):
      text = a.render(parentPrecedence: 1) + " + " + b.render(parentPrecedence: 1, rightOperand: true)
    case .sub(let a, let b):
      text = a.render(parentPrecedence: 1) + " - " + b.render(parentPrecedence: 1, rightOperand: true)
    case .mul(let a, let b):
      text = a.render(parentPrecedence: 2) + "*" + b.render(parentPrecedence: 2, rightOperand: true)
    case .floorDiv(let a, let b):
      text = a.render(parentPrecedence: 2) + " // " + b.render(parentPrecedence: 2, rightOperand: true)
    case .mod(let a, let b):
      text = a.render(parentPrecedence: 2) + " % " + b.render(parentPrecedence: 2, rightOperand: true)
    }
    let p = precedence
    let needs = p < parentPrecedence || (rightOperand && p == parentPrecedence && p < 3)
    return needs ? "(" + text + ")" : text
  }
}
