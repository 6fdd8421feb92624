/// The names of a layer's tensors, as the spec's `weights:` writes them.
public enum ParameterKind: String, CaseIterable, Sendable {
  case weight, bias, gamma, beta, mean
  case variance = "var"
  /// Attention's projections: query, key, value and output, each a weight and a bias.
  case wq, bq, wk, bk, wv, bv, wo, bo

  /// Whether training would update it (BN's running statistics are buffers).
  public var isLearnable: Bool { self != .mean && self != .variance }
}

/// One tensor an op owns. Its shape is a rule of the passes (`parameterShapes`); whether it
/// exists is a fact of the op and its `bias` option.
public struct ParameterSpec: Hashable, Sendable {
  /// Which tensor.
  public var kind: ParameterKind
  /// True when it exists only with `bias true`.
  public var onlyWithBias: Bool

  /// Creates a parameter entry.
  public init(_ kind: ParameterKind, onlyWithBias: Bool = false) {
    self.kind = kind
    self.onlyWithBias = onlyWithBias
  }
}
