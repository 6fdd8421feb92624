import NetcDiagnostics

/// A figure of a layer or of the whole network that `expect:` can assert.
public enum Figure: String, Hashable, Sendable, CaseIterable {
  case params, buffers, macs, activations

  /// The figure's name in text (`MACs`).
  public var title: String {
    switch self {
    case .params: "params"
    case .buffers: "buffers"
    case .macs: "MACs"
    case .activations: "activations"
    }
  }
}

/// An asserted figure (`expect: { params: 3620 }`), as the spec gives it: a number, or the
/// writer's arithmetic (`"9*9*10*96 + 96"`, `"810 * 65 * 65 = 4985250"`), so a check can
/// name a slip in the arithmetic apart from a wrong formula.
public struct FigureExpectation: Hashable, Sendable {
  /// Which figure.
  public var figure: Figure
  /// The value claimed: the number after `=`, or the expression's value.
  public var value: Int
  /// The expression as written, when the value was given as arithmetic.
  public var expression: String?
  /// The expression's value, when it differs from the number after `=`.
  public var expressionValue: Int?
  /// Where it was written.
  public var range: SourceRange

  /// Creates an expectation.
  public init(
    figure: Figure, value: Int, expression: String? = nil, expressionValue: Int? = nil, range: SourceRange
  ) {
    self.figure = figure
    self.value = value
    self.expression = expression
    self.expressionValue = expressionValue
    self.range = range
  }
}
