import NetcDiagnostics

/// An asserted shape (`-> 66x66x_`): each extent a value or `_` for any.
public struct ShapePattern: Hashable, Sendable, CustomStringConvertible {
  /// One extent of the pattern.
  public enum Extent: Hashable, Sendable {
    case any
    case value(SymValue)
  }

  /// The extents, outermost first (H, W, C).
  public var extents: [Extent]
  /// Where the pattern was written.
  public var range: SourceRange

  /// Creates a pattern.
  public init(extents: [Extent], range: SourceRange) {
    self.extents = extents
    self.range = range
  }

  public var description: String {
    extents.map {
      switch $0 {
      case .any: "_"
      case .value(let v): v.expr.constant.map(String.init) ?? "(\(v.expr))"
      }
    }.joined(separator: "x")
  }
}
