/// Every operation of the IR, with its mnemonic (the spec's canonical op name in lower
/// case, also the `op` of JSON output) and a one-line summary.
public enum OpKind: String, CaseIterable, Hashable, Sendable {
  case input
  case conv, dwconv, pwconv
  case maxpool = "pool"
  case avgpool, gap, gmp
  case fc, flatten, bn
  case relu, relu6, sigmoid, tanh, softmax, gelu, identity, leakyrelu, dropout
  case add, concat

  /// The canonical name: `conv`, `pool`, `fc`; default layer names are built from it.
  public var mnemonic: String { rawValue }

  /// What the op computes, in one line.
  public var summary: String {
    switch self {
    case .input: "the network's input"
    case .conv: "convolution, 1-D/2-D/3-D by input rank"
    case .dwconv: "depthwise convolution: groups = channels, out = channels x multiplier"
    case .pwconv: "pointwise (1x1) convolution"
    case .maxpool: "max pooling"
    case .avgpool: "average pooling"
    case .gap: "global average pooling to 1x1xC"
    case .gmp: "global max pooling to 1x1xC"
    case .fc: "fully connected layer on a vector"
    case .flatten: "to a vector, channel-major (C, then H, then W)"
    case .bn: "batch normalization over channels"
    case .relu: "max(x, 0)"
    case .relu6: "min(max(x, 0), 6)"
    case .sigmoid: "1 / (1 + exp(-x))"
    case .tanh: "hyperbolic tangent"
    case .softmax: "softmax over the last axis"
    case .gelu: "Gaussian error linear unit (erf form)"
    case .identity: "the input unchanged"
    case .leakyrelu: "x for x > 0, slope * x otherwise"
    case .dropout: "identity at inference"
    case .add: "element-wise sum of branches"
    case .concat: "concatenation of branches along channels"
    }
  }

  /// Ops that slide a window over spatial axes.
  public static let windowed: Set<OpKind> = [.conv, .dwconv, .pwconv, .maxpool, .avgpool]
  /// Convolutions of every kind.
  public static let convolutions: Set<OpKind> = [.conv, .dwconv, .pwconv]
  /// Pools with a window.
  public static let pools: Set<OpKind> = [.maxpool, .avgpool]
  /// Ops with learnable parameters.
  public static let weighted: Set<OpKind> = [.conv, .dwconv, .pwconv, .fc, .bn]
  /// Ops applied element by element, keeping the shape.
  public static let elementwise: Set<OpKind> = [
    .relu, .relu6, .sigmoid, .tanh, .gelu, .identity, .leakyrelu, .dropout,
  ]
  /// Ops that merge several inputs.
  public static let merges: Set<OpKind> = [.add, .concat]

  /// True for windowed ops.
  public var isWindowed: Bool { Self.windowed.contains(self) }
  /// True for convolutions.
  public var isConvolution: Bool { Self.convolutions.contains(self) }
  /// True for ops with learnable parameters.
  public var hasWeights: Bool { Self.weighted.contains(self) }
  /// True for shape-preserving element-wise ops.
  public var isElementwise: Bool { Self.elementwise.contains(self) }
  /// True for add and concat.
  public var isMerge: Bool { Self.merges.contains(self) }
}
