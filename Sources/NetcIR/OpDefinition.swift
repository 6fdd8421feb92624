/// Everything netc knows about an op that is a fact rather than an algorithm, in one
/// record: what it computes, its spelling and options, how many inputs of which rank it
/// takes, its groups and its parameter tensors. The JSON Schema and the docs' op table are
/// generated from these records (`netc schema`).
public final class OpDefinition: Sendable {
  /// How many inputs the op reads.
  public enum Arity: Sendable, Equatable {
    /// None: the network's input.
    case none
    /// Exactly one.
    case one
    /// One or more: the merges of structures.
    case many
  }

  /// The rank its (first) input must have.
  public enum InputRank: Sendable, Equatable {
    /// Any rank.
    case any
    /// Spatial axes and channels: `LxC`, `HxWxC` or `DxHxWxC`.
    case spatial
    /// A vector.
    case vector
  }

  /// What the op computes, in one line.
  public let summary: String
  /// How the spec writes it; nil for ops that only structures or the input make.
  public let spelling: LayerSpelling?
  /// How many inputs it reads.
  public let arity: Arity
  /// The rank its input must have.
  public let inputRank: InputRank
  /// Its groups.
  public let traits: OpTraits
  /// The tensors it owns, in the order `weights:` files and reports list them.
  public let parameters: [ParameterSpec]

  // A class, so that reading one fact in a pass's inner loop copies a reference, not the
  // record's arrays.
  init(
    summary: String, spelling: LayerSpelling?, arity: Arity, inputRank: InputRank, traits: OpTraits,
    parameters: [ParameterSpec]
  ) {
    self.summary = summary
    self.spelling = spelling
    self.arity = arity
    self.inputRank = inputRank
    self.traits = traits
    self.parameters = parameters
  }
}

extension OpKind {
  /// The op's definition, built once.
  public var definition: OpDefinition { Self.definitions[ordinal] }

  /// The case's position in `allCases`: a payload-free enum is stored as its declaration
  /// index, so this reads a byte where a dictionary would hash the raw string.
  private var ordinal: Int { withUnsafeBytes(of: self) { Int($0[0]) } }

  private static let definitions: [OpDefinition] = {
    precondition(MemoryLayout<OpKind>.size == 1 && allCases.indices.allSatisfy { allCases[$0].ordinal == $0 })
    return allCases.map { $0.makeDefinition() }
  }()

  /// This switch is the one place an op's facts are written.
  private func makeDefinition() -> OpDefinition {
    switch self {
    case .input:
      OpDefinition(summary: "the network's input", spelling: nil, arity: .none, inputRank: .any, traits: [], parameters: [])
    case .conv:
      OpDefinition(
        summary: "convolution, 1-D/2-D/3-D by input rank",
        spelling: LayerSpelling(
          name: "conv", op: .conv, kernel: .required, count: .required, countName: "filters",
          options: [.stride, .pad, .dilation, .groups, .bias], meaning: "convolution, 1-D/2-D/3-D by input rank"),
        arity: .one, inputRank: .spatial, traits: [.windowed, .convolution], parameters: Self.weightAndBias)
    case .dwconv:
      OpDefinition(
        summary: "depthwise convolution: groups = channels, out = channels x multiplier",
        spelling: LayerSpelling(
          name: "dwconv", aliases: ["depthwise"], op: .dwconv, kernel: .required, count: .optional,
          countName: "multiplier", countNoun: "depth multiplier",
          countSummary: "Depth multiplier: output channels = input channels x multiplier (default 1).",
          options: [.stride, .pad, .dilation, .bias],
          families: ["conv", "dwconv"], meaning: "depthwise conv: groups = C, out channels = C x multiplier"),
        arity: .one, inputRank: .spatial, traits: [.windowed, .convolution], parameters: Self.weightAndBias)
    case .pwconv:
      OpDefinition(
        summary: "pointwise (1x1) convolution",
        spelling: LayerSpelling(
          name: "pwconv", aliases: ["pointwise"], op: .pwconv, count: .required, countName: "filters",
          options: [.stride, .bias], families: ["conv", "pwconv"], meaning: "1x1 conv"),
        arity: .one, inputRank: .spatial, traits: [.windowed, .convolution], parameters: Self.weightAndBias)
    case .maxpool:
      OpDefinition(
        summary: "max pooling",
        // Max pooling also takes `dilation`, as PyTorch's MaxPool does; average pooling does not.
        spelling: LayerSpelling(
          name: "pool", aliases: ["maxpool"], op: .maxpool, kernel: .required, options: [.stride, .pad, .round, .dilation],
          meaning: "max pool; the stride defaults to the kernel; `POOL-2` and `POOL2` both mean kernel 2"),
        arity: .one, inputRank: .spatial, traits: [.windowed, .pool, .keepsChannels], parameters: [])
    case .avgpool:
      OpDefinition(
        summary: "average pooling",
        spelling: LayerSpelling(
          name: "avgpool", op: .avgpool, kernel: .required, options: [.stride, .pad, .round], families: ["pool", "avgpool"],
          meaning: "average pool; the stride defaults to the kernel"),
        arity: .one, inputRank: .spatial, traits: [.windowed, .pool, .keepsChannels], parameters: [])
    case .gap:
      OpDefinition(
        summary: "global average pooling to 1x1xC",
        spelling: LayerSpelling(name: "gap", aliases: ["globalavgpool"], op: .gap, meaning: "global average pool to `1x1xC`"),
        arity: .one, inputRank: .spatial, traits: [.keepsChannels], parameters: [])
    case .gmp:
      OpDefinition(
        summary: "global max pooling to 1x1xC",
        spelling: LayerSpelling(name: "gmp", aliases: ["globalmaxpool"], op: .gmp, meaning: "global max pool to `1x1xC`"),
        arity: .one, inputRank: .spatial, traits: [.keepsChannels], parameters: [])
    case .fc:
      OpDefinition(
        summary: "fully connected layer on a vector",
        spelling: LayerSpelling(
          name: "fc", aliases: ["dense", "linear"], op: .fc, count: .required, countName: "units",
          countSummary: "Number of outputs of the fully connected layer.", options: [.bias],
          meaning: "fully connected; input must be rank 1 (else an error with the hint \"add FLATTEN\")"),
        arity: .one, inputRank: .vector, traits: [], parameters: Self.weightAndBias)
    case .flatten:
      OpDefinition(
        summary: "to a vector, channel-major (C, then H, then W)",
        spelling: LayerSpelling(
          name: "flatten", op: .flatten, meaning: "to rank 1, channel-major (C, then H, then W) so that weights match PyTorch and ONNX"),
        arity: .one, inputRank: .any, traits: [], parameters: [])
    case .bn:
      OpDefinition(
        summary: "batch normalization over channels",
        spelling: LayerSpelling(name: "bn", aliases: ["batchnorm"], op: .bn, options: [.eps], meaning: "batch norm over channels"),
        arity: .one, inputRank: .any, traits: [.keepsChannels, .inPlace],
        parameters: [.init(.gamma), .init(.beta), .init(.mean), .init(.variance)])
    case .relu:
      Self.activation(.relu, "max(x, 0)", extra: [.idempotent, .fusableActivation])
    case .relu6:
      Self.activation(.relu6, "min(max(x, 0), 6)", extra: [.idempotent, .fusableActivation])
    case .sigmoid:
      Self.activation(.sigmoid, "1 / (1 + exp(-x))")
    case .tanh:
      Self.activation(.tanh, "hyperbolic tangent")
    case .softmax:
      OpDefinition(
        summary: "softmax over the last axis",
        spelling: LayerSpelling(name: "softmax", op: .softmax, meaning: "softmax over the last axis"),
        arity: .one, inputRank: .any, traits: [.activation, .keepsChannels, .inPlace], parameters: [])
    case .gelu:
      Self.activation(.gelu, "Gaussian error linear unit (erf form)")
    case .identity:
      OpDefinition(
        summary: "the input unchanged",
        spelling: LayerSpelling(name: "identity", op: .identity, meaning: "the input unchanged"),
        arity: .one, inputRank: .any, traits: [.elementwise, .keepsChannels, .aliasAtInference, .inPlace], parameters: [])
    case .leakyrelu:
      OpDefinition(
        summary: "x for x > 0, slope * x otherwise",
        spelling: LayerSpelling(
          name: "leakyrelu", op: .leakyrelu, options: [.slope], meaning: "x for x > 0, slope * x otherwise (slope default 0.01)"),
        arity: .one, inputRank: .any,
        traits: [.elementwise, .activation, .keepsChannels, .inPlace, .fusableActivation], parameters: [])
    case .dropout:
      OpDefinition(
        summary: "identity at inference",
        spelling: LayerSpelling(name: "dropout", op: .dropout, options: [.p], meaning: "identity at inference"),
        arity: .one, inputRank: .any, traits: [.elementwise, .keepsChannels, .aliasAtInference, .inPlace], parameters: [])
    case .add:
      OpDefinition(
        summary: "element-wise sum of branches", spelling: nil, arity: .many, inputRank: .any, traits: [.inPlace], parameters: [])
    case .concat:
      OpDefinition(
        summary: "concatenation of branches along channels", spelling: nil, arity: .many, inputRank: .any, traits: [],
        parameters: [])
    }
  }

  private static let weightAndBias: [ParameterSpec] = [.init(.weight), .init(.bias, onlyWithBias: true)]

  /// An element-wise activation without options.
  private static func activation(_ op: OpKind, _ summary: String, extra: OpTraits = []) -> OpDefinition {
    OpDefinition(
      summary: summary, spelling: LayerSpelling(name: op.rawValue, op: op, meaning: summary), arity: .one, inputRank: .any,
      traits: OpTraits([.elementwise, .activation, .keepsChannels, .inPlace]).union(extra), parameters: [])
  }
}
