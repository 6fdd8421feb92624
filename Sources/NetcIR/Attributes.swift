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

/// How upsampling fills the new positions.
public enum UpsampleMode: String, Hashable, Sendable {
  case nearest, bilinear
}

/// Integer attributes that only some of the newer ops have, keyed so that every pass reads
/// them the same way (the solver compiles each like a kernel or a count).
public enum IntegerAttribute: Int, CaseIterable, Hashable, Sendable {
  /// Attention's key/value heads.
  case kvHeads
  /// Attention's width of one head.
  case headDim
  /// An embedding's vocabulary.
  case vocab
  /// Experts of a mixture: set on the router and on every node of the expert's body.
  case experts
  /// Experts each token is routed to.
  case topK
  /// A transposed conv's output padding, one per spatial axis or one for all.
  case outputPadding
  /// Upsampling's output extents.
  case size
}

/// The attributes of a node; which ones matter depends on the op.
public struct Attributes: Hashable, Sendable {
  /// Window extents: one for every axis, or one per spatial axis.
  public var kernel: [SymValue] = []
  /// Filters (conv, pwconv), units (fc), depth multiplier (dwconv), heads (attn), scale
  /// (upsample), table length (posembed), groups (shuffle), experts (router), parts (slice).
  public var count: SymValue?
  /// Window strides: one for every axis, or one per spatial axis; empty = the default.
  public var stride: [SymValue] = []
  /// Padding; explicit zero unless given.
  public var padding: Padding = .explicit(begin: [], end: [])
  /// Dilations: one for every axis, or one per axis; empty = 1.
  public var dilation: [SymValue] = []
  /// Groups of a conv; nil = 1.
  public var groups: SymValue?
  /// Whether the layer has a bias (a norm: a shift β).
  public var bias: Bool = true
  /// Output rounding of pools.
  public var rounding: Rounding = .floor
  /// Normalization epsilon.
  public var epsilon: Double = 1e-5
  /// LeakyReLU negative slope.
  public var slope: Double = 0.01
  /// Dropout or stochastic-depth probability (no effect at inference).
  public var dropProbability: Double = 0.5
  /// The integer attributes of the newer ops.
  public var integers: [IntegerAttribute: [SymValue]] = [:]
  /// GELU in its tanh approximation.
  public var tanhApproximation = false
  /// A sinusoidal (parameter-free) position embedding instead of a learned table.
  public var sinusoidal = false
  /// Attention with a causal mask.
  public var causal = false
  /// Attention with rotary position embedding.
  public var rotary = false
  /// The rotary base (`theta`).
  public var ropeTheta = 10000.0
  /// Upsampling's interpolation.
  public var upsampleMode: UpsampleMode = .nearest
  /// `take`'s token and `slice`'s part.
  public var index = 0
  /// The node whose weight this one shares (`tie`), if any.
  public var tiedTo: Int?

  /// For the projection of `shortcut: auto`: the node whose shape the shortcut must match.
  /// The node is the identity when the shapes already match, else a strided 1x1 conv (and
  /// its BN) whose filters and stride shape inference derives.
  public var shortcutTarget: Int?
  /// Set by `resolveShortcuts` on a projection of `shortcut: auto` that became an identity
  /// because the shapes already matched. The node is an identity like any other; reports
  /// leave it out, since the spec wrote no such layer.
  public var elidedShortcut = false

  /// Creates empty attributes.
  public init() {}

  /// The single value of an integer attribute, if given.
  public func integer(_ key: IntegerAttribute) -> SymValue? { integers[key]?.first }
}
