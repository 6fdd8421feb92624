import NetcDiagnostics

/// An integer attribute as written: its expression and the source it came from.
public struct SymValue: Hashable, Sendable, CustomStringConvertible {
  /// The value, possibly in terms of vars.
  public var expr: SymExpr
  /// Where it was written (the word inside a shorthand string).
  public var range: SourceRange

  /// Creates a value.
  public init(_ expr: SymExpr, at range: SourceRange) {
    self.expr = expr
    self.range = range
  }

  /// A constant written at `range`.
  public static func const(_ value: Int, at range: SourceRange) -> SymValue {
    SymValue(.const(value), at: range)
  }

  public var description: String { expr.description }
}
