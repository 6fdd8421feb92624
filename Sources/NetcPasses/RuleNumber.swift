import NetcIR

/// The numbers the shape and cost rules compute in. Concrete inference and the solver
/// compute in `Int`, every operation overflow-checked; the symbolic analysis computes in
/// `SymExpr`, where an operation builds an expression and a check whose operands are not
/// constants is left to the values the vars take. One rule over this protocol serves all
/// three, so they cannot disagree.
protocol RuleNumber: Hashable, Sendable, CustomStringConvertible {
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
}

extension Int: RuleNumber {
  static func constant(_ value: Int) -> Int { value }
  func plus(_ other: Int) -> Int? {
    let (r, o) = addingReportingOverflow(other)
    return o ? nil : r
  }
  func minus(_ other: Int) -> Int? {
    let (r, o) = subtractingReportingOverflow(other)
    return o ? nil : r
  }
  func times(_ other: Int) -> Int? {
    let (r, o) = multipliedReportingOverflow(by: other)
    return o ? nil : r
  }
  func floorDivided(by divisor: Int) -> Int? { SymExpr.floorDivide(self, divisor) }
  var known: Int? { self }
  var normalized: Int { self }
  static var hasSamePadding: Bool { true }
}

extension SymExpr: RuleNumber {
  static func constant(_ value: Int) -> SymExpr { .const(value) }
  func plus(_ other: SymExpr) -> SymExpr? { .add(self, other) }
  func minus(_ other: SymExpr) -> SymExpr? { .sub(self, other) }
  func times(_ other: SymExpr) -> SymExpr? { .mul(self, other) }
  func floorDivided(by divisor: SymExpr) -> SymExpr? { .floorDiv(self, divisor) }
  var known: Int? { constant }
  var normalized: SymExpr { simplified }
  static var hasSamePadding: Bool { false }
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
