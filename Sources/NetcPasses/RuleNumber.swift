import NetcIR

/// The numbers the shape and cost rules compute in. Concrete inference and the solver
/// compute in `Int`, every operation overflow-checked; the symbolic analysis computes in
/// `SymExpr`, where an operation builds an expression and a check whose operands are not
/// constants is left to the values the vars take. One rule over this protocol serves all
/// three, so they cannot disagree. Public because a layer's working (`--explain`) is
/// written in either kind of number.
public protocol RuleNumber: Hashable, Sendable, CustomStringConvertible {
  /// An integer constant.
  static func constant(_ value: Int) -> Self
  /// The sum, or nil on overflow.
  func plus(_ other: Self) -> Self?
  /// The difference, or nil on overflow.
  func minus(_ other: Self) -> Self?
  /// The product, or nil on overflow.
  func times(_ other: Self) -> Self?
  /// Floor division by a divisor of at least 1.
  func floorDivided(by divisor: Self) -> Self?
  /// The value when it is known: always for integers, for constants among expressions.
  var known: Int? { get }
  /// The form a result keeps: expressions simplified, integers as they are.
  var normalized: Self { get }
  /// Whether `same` padding's amounts can be computed (they need max(_, 0)).
  static var hasSamePadding: Bool { get }
  /// The value as a factor of a product: `12`, `k`, `(⌊(205 - k)/3⌋ + 1)`.
  var factorText: String { get }
}

extension Int: RuleNumber {
  public static func constant(_ value: Int) -> Int { value }
  public func plus(_ other: Int) -> Int? {
    let (r, o) = addingReportingOverflow(other)
    return o ? nil : r
  }
  public func minus(_ other: Int) -> Int? {
    let (r, o) = subtractingReportingOverflow(other)
    return o ? nil : r
  }
  public func times(_ other: Int) -> Int? {
    let (r, o) = multipliedReportingOverflow(by: other)
    return o ? nil : r
  }
  public func floorDivided(by divisor: Int) -> Int? { SymExpr.floorDivide(self, divisor) }
  public var known: Int? { self }
  public var normalized: Int { self }
  public static var hasSamePadding: Bool { true }
  public var factorText: String { String(self) }
}

extension SymExpr: RuleNumber {
  public static func constant(_ value: Int) -> SymExpr { .const(value) }
  public func plus(_ other: SymExpr) -> SymExpr? { .add(self, other) }
  public func minus(_ other: SymExpr) -> SymExpr? { .sub(self, other) }
  public func times(_ other: SymExpr) -> SymExpr? { .mul(self, other) }
  public func floorDivided(by divisor: SymExpr) -> SymExpr? { .floorDiv(self, divisor) }
  public var known: Int? { constant }
  public var normalized: SymExpr { simplified }
  public static var hasSamePadding: Bool { false }
  public var factorText: String {
    let e = simplified
    switch e {
    case .const(let v) where v >= 0: return String(v)
    case .variable(let name): return name
    case .const, .add, .sub, .mul, .floorDiv, .mod, .neg: return "(\(e.pretty))"
    }
  }
}

extension Array where Element: RuleNumber {
  /// The product of the elements (1 for none), or nil and the multiplication that
  /// overflowed (`a * b`), for messages.
  func ruleProduct() -> (value: Element?, overflow: String?) {
    guard var p = first else { return (.constant(1), nil) }
    for v in dropFirst() {
      guard let next = p.times(v) else { return (nil, "\(p) * \(v)") }
      p = next
    }
    return (p, nil)
  }
}
