import NetcDiagnostics

/// How a window op pads its input.
public enum Padding: Hashable, Sendable {
  /// Explicit amounts before and after each spatial axis; one entry applies to every axis.
  case explicit(begin: [SymValue], end: [SymValue])
  /// TensorFlow's `same`: output = ceil(input / stride), the odd unit at the end.
  case same
}

/// How a pool rounds its output extent.
public enum Rounding: String, Hashable, Sendable {
  case floor, ceil
}

/// The attributes of a node; which ones matter depends on the op.
public struct Attributes: Hashable, Sendable {
  /// Window extents: one for every axis, or one per spatial axis.
  public var kernel: [SymValue] = []
  /// Filters (conv, pwconv), units (fc) or depth multiplier (dwconv).
  public var count: SymValue?
  /// Window strides: one for every axis, or one per spatial axis; empty = the default.
  public var stride: [SymValue] = []
  /// Padding; explicit zero unless given.
  public var padding: Padding = .explicit(begin: [], end: [])
  /// Dilations: one for every axis, or one per axis; empty = 1.
  public var dilation: [SymValue] = []
  /// Groups of a conv; nil = 1.
  public var groups: SymValue?
  /// Whether a conv or fc has a bias.
  public var bias: Bool = true
  /// Output rounding of pools.
  public var rounding: Rounding = .floor
  /// BN epsilon.
  public var epsilon: Double = 1e-5
  /// LeakyReLU negative slope.
  public var slope: Double = 0.01
  /// Dropout probability (no effect at inference).
  public var dropProbability: Double = 0.5

  /// For the projection of `shortcut: auto`: the node whose shape the shortcut must match.
  /// The node is the identity when the shapes already match, else a strided 1x1 conv (and
  /// its BN) whose filters and stride shape inference derives.
  public var shortcutTarget: Int?

  /// Creates empty attributes.
  public init() {}
}
