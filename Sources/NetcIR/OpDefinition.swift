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
    /// One, and a second with `cross` (attention reading an encoder's output).
    case oneOrTwo
  }

  /// The rank its (first) input must have.
  public enum InputRank: Sendable, Equatable {
    /// Any rank.
    case any
    /// Spatial axes and channels: `LxC`, `HxWxC` or `DxHxWxC`.
    case spatial
    /// A vector.
    case vector
    /// A sequence `LxC`.
    case sequence
    /// Token ids: the network's input declared as `T tokens`.
    case tokens
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
        arity: .one, inputRank: .spatial, traits: [.windowed, .convolution, .countsChannels], parameters: Self.weightAndBias)
    case .dwconv:
      OpDefinition(
        summary: "depthwise convolution: groups = channels, out = channels x multiplier",
        spelling: LayerSpelling(
          name: "dwconv", aliases: ["depthwise"], op: .dwconv, kernel: .required, count: .optional,
          countName: "multiplier", countNoun: "depth multiplier",
          countSummary: "Depth multiplier: output channels = input channels x multiplier (default 1).",
          options: [.stride, .pad, .dilation, .bias],
          families: ["conv", "dwconv"], meaning: "depthwise conv: groups = C, out channels = C x multiplier"),
        arity: .one, inputRank: .spatial, traits: [.windowed, .convolution, .countsChannels], parameters: Self.weightAndBias)
    case .pwconv:
      OpDefinition(
        summary: "pointwise (1x1) convolution",
        spelling: LayerSpelling(
          name: "pwconv", aliases: ["pointwise"], op: .pwconv, count: .required, countName: "filters",
          options: [.stride, .bias], families: ["conv", "pwconv"], meaning: "1x1 conv"),
        arity: .one, inputRank: .spatial, traits: [.windowed, .convolution, .countsChannels], parameters: Self.weightAndBias)
    case .maxpool:
      OpDefinition(
        summary: "max pooling",
        // Both pools take `dilation`: PyTorch's MaxPool and ONNX's pools (AveragePool from opset 19).
        spelling: LayerSpelling(
          name: "pool", aliases: ["maxpool"], op: .maxpool, kernel: .required, options: [.stride, .pad, .round, .dilation],
          meaning: "max pool; the stride defaults to the kernel; `POOL-2` and `POOL2` both mean kernel 2"),
        arity: .one, inputRank: .spatial, traits: [.windowed, .pool, .keepsChannels], parameters: [])
    case .avgpool:
      OpDefinition(
        summary: "average pooling",
        spelling: LayerSpelling(
          name: "avgpool", op: .avgpool, kernel: .required, options: [.stride, .pad, .round, .dilation], families: ["pool", "avgpool"],
          meaning: "average pool; the stride defaults to the kernel; divides by the (dilated) taps inside the padded input"),
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
          name: "fc", aliases: ["dense"], op: .fc, count: .required, countName: "units",
          countSummary: "Number of outputs of the fully connected layer.", options: [.bias],
          meaning: "fully connected; input must be rank 1 (else an error with the hint \"add FLATTEN\")"),
        arity: .one, inputRank: .vector, traits: [.countsChannels], parameters: Self.weightAndBias)
    case .linear:
      OpDefinition(
        summary: "a linear layer over the last axis, any rank",
        spelling: LayerSpelling(
          name: "linear", op: .linear, count: .required, countName: "units",
          countSummary: "Output width: the new last extent.", options: [.bias, .tie],
          meaning:
            "linear layer over the last axis of any rank (`LxC`, `HxWxC`: each position), as PyTorch's `nn.Linear`; `tie L` shares layer L's weight"
        ),
        arity: .one, inputRank: .any, traits: [.countsChannels], parameters: Self.weightAndBias)
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
    case .layernorm:
      OpDefinition(
        summary: "layer normalization over the last axis",
        spelling: LayerSpelling(
          name: "ln", aliases: ["layernorm"], op: .layernorm, options: [.eps, .bias],
          meaning: "layer norm over the last axis (channels of `HxWxC`, as ConvNeXt's); γ and β, or γ only with `bias false`"),
        arity: .one, inputRank: .any, traits: [.keepsChannels], parameters: [.init(.gamma), .init(.beta, onlyWithBias: true)])
    case .rmsnorm:
      OpDefinition(
        summary: "RMS normalization over the last axis",
        spelling: LayerSpelling(
          name: "rmsnorm", op: .rmsnorm, options: [.eps, .bias], defaultBias: false,
          meaning: "RMS norm over the last axis (Llama's): γ only; β too with `bias true`"),
        arity: .one, inputRank: .any, traits: [.keepsChannels], parameters: [.init(.gamma), .init(.beta, onlyWithBias: true)])
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
      OpDefinition(
        summary: "Gaussian error linear unit",
        spelling: LayerSpelling(
          name: "gelu", op: .gelu, options: [.approx],
          meaning: "Gaussian error linear unit: erf form; `GELU tanh` the tanh approximation (GPT-2's)"),
        arity: .one, inputRank: .any, traits: [.elementwise, .activation, .keepsChannels, .inPlace], parameters: [])
    case .silu:
      Self.activation(.silu, "x * sigmoid(x) (Swish)", aliases: ["swish"])
    case .hardswish:
      Self.activation(.hardswish, "x * relu6(x + 3) / 6 (MobileNet v3's)", aliases: ["hswish"])
    case .hardsigmoid:
      Self.activation(.hardsigmoid, "relu6(x + 3) / 6", aliases: ["hsigmoid"])
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
    case .droppath:
      OpDefinition(
        summary: "stochastic depth: identity at inference",
        spelling: LayerSpelling(
          name: "droppath", aliases: ["stochdepth"], op: .droppath, options: [.p],
          meaning: "stochastic depth (drops a residual branch while training): identity at inference"),
        arity: .one, inputRank: .any, traits: [.elementwise, .keepsChannels, .aliasAtInference, .inPlace], parameters: [])
    case .layerscale:
      OpDefinition(
        summary: "a learned scale per channel",
        spelling: LayerSpelling(name: "layerscale", op: .layerscale, meaning: "a learned scale per channel (CaiT, ConvNeXt): γ of `[C]`"),
        arity: .one, inputRank: .any, traits: [.elementwise, .keepsChannels, .inPlace], parameters: [.init(.gamma)])
    case .embed:
      OpDefinition(
        summary: "token embedding: ids to vectors",
        spelling: LayerSpelling(
          name: "embed", aliases: ["embedding"], op: .embed, count: .required, countName: "width",
          countSummary: "Width of each token's vector.", options: [.vocab, .tie], requiredOptions: [.vocab],
          meaning: "token embedding: `T tokens` to `TxC` with a `vocab x C` table; `EMBED-768 vocab 50257`"),
        arity: .one, inputRank: .tokens, traits: [.countsChannels], parameters: [.init(.weight)])
    case .posembed:
      OpDefinition(
        summary: "position embedding added to a sequence",
        spelling: LayerSpelling(
          name: "posembed", op: .posembed, count: .optional, countName: "positions", countNoun: "positions",
          countSummary: "Rows of a learned position table: the longest sequence it takes.", options: [.kind],
          meaning: "adds a position embedding to `LxC`: `POSEMBED-1024` a learned table of 1024 positions, `POSEMBED sinusoidal` none"),
        arity: .one, inputRank: .sequence, traits: [.keepsChannels], parameters: [.init(.weight)])
    case .typeembed:
      OpDefinition(
        summary: "token-type (segment) embedding added to a sequence",
        spelling: LayerSpelling(
          name: "typeembed", aliases: ["segembed"], op: .typeembed, count: .required, countName: "types",
          countSummary: "Token types (BERT's segments).",
          meaning: "adds a token-type embedding (BERT's segments) to `LxC`: a `types x C` table"),
        arity: .one, inputRank: .sequence, traits: [.keepsChannels], parameters: [.init(.weight)])
    case .clstoken:
      OpDefinition(
        summary: "prepends a learned class token",
        spelling: LayerSpelling(name: "clstoken", op: .clstoken, meaning: "prepends a learned class token: `LxC` to `(L+1)xC`"),
        arity: .one, inputRank: .sequence, traits: [.keepsChannels], parameters: [.init(.weight)])
    case .tokens:
      OpDefinition(
        summary: "the grid as a sequence",
        spelling: LayerSpelling(
          name: "tokens", op: .tokens,
          meaning: "the grid as a sequence: `HxWxC` to `(H*W)xC`, row by row (ViT's patches after a strided conv)"),
        arity: .one, inputRank: .spatial, traits: [.keepsChannels], parameters: [])
    case .take:
      OpDefinition(
        summary: "one token of a sequence",
        spelling: LayerSpelling(
          name: "take", op: .take, options: [.index],
          meaning: "one token of `LxC` as a vector of C: `TAKE` the first (the class token), `TAKE index -1` the last"),
        arity: .one, inputRank: .sequence, traits: [.keepsChannels], parameters: [])
    case .attention:
      OpDefinition(
        summary: "multi-head attention",
        spelling: LayerSpelling(
          name: "attn", aliases: ["attention", "mha"], op: .attention, count: .required, countName: "heads",
          countSummary: "Query heads.", options: [.kv, .dim, .bias, .causal, .rope, .theta, .cross],
          meaning:
            "multi-head attention on `LxC` with its four projections: `ATTN-12`, `kv 8` grouped-query, `dim 128`, `causal`, `rope`, `cross L`"
        ),
        arity: .oneOrTwo, inputRank: .sequence, traits: [],
        parameters: [
          .init(.wq), .init(.bq, onlyWithBias: true), .init(.wk), .init(.bk, onlyWithBias: true), .init(.wv),
          .init(.bv, onlyWithBias: true), .init(.wo), .init(.bo, onlyWithBias: true),
        ])
    case .upsample:
      OpDefinition(
        summary: "upsampling by a scale or to a size",
        spelling: LayerSpelling(
          name: "upsample", op: .upsample, count: .optional, countName: "scale", countNoun: "scale",
          countSummary: "Scale of every spatial axis.", options: [.size, .mode],
          meaning: "`UPSAMPLE-2` by a scale or `UPSAMPLE size 64x64` to a size; `nearest` (default) or `bilinear`"),
        arity: .one, inputRank: .spatial, traits: [.keepsChannels], parameters: [])
    case .pad:
      OpDefinition(
        summary: "zero padding of the spatial axes",
        spelling: LayerSpelling(
          name: "pad", aliases: ["zeropad"], op: .pad, count: .optional, countName: "amount", countNoun: "padding",
          countSummary: "Zeros on both sides of every spatial axis.", options: [.pad],
          meaning: "zero padding: `PAD-1` on every side, `PAD pad 0:1,1:2` per axis and side"),
        arity: .one, inputRank: .spatial, traits: [.keepsChannels], parameters: [])
    case .shuffle:
      OpDefinition(
        summary: "channel shuffle",
        spelling: LayerSpelling(
          name: "shuffle", op: .shuffle, count: .required, countName: "groups",
          countSummary: "Groups whose channels are interleaved.",
          meaning: "channel shuffle (ShuffleNet): `SHUFFLE-2` interleaves 2 groups of channels"),
        arity: .one, inputRank: .any, traits: [.keepsChannels], parameters: [])
    case .deconv:
      OpDefinition(
        summary: "transposed convolution",
        spelling: LayerSpelling(
          name: "deconv", aliases: ["convtranspose"], op: .deconv, kernel: .required, count: .required, countName: "filters",
          options: [.stride, .pad, .dilation, .groups, .bias, .outpad], families: ["deconv"],
          meaning:
            "transposed conv: out = (in-1)*stride - pad_begin - pad_end + dilation*(k-1) + outpad + 1; weights `[Cin][Cout/groups][k...]`"),
        arity: .one, inputRank: .spatial, traits: [.countsChannels], parameters: Self.weightAndBias)
    case .add:
      OpDefinition(
        summary: "element-wise sum of branches", spelling: nil, arity: .many, inputRank: .any, traits: [.inPlace], parameters: [])
    case .concat:
      OpDefinition(
        summary: "concatenation of branches along channels", spelling: nil, arity: .many, inputRank: .any, traits: [],
        parameters: [])
    case .mul:
      OpDefinition(
        summary: "element-wise product of branches, broadcasting", spelling: nil, arity: .many, inputRank: .any, traits: [.inPlace],
        parameters: [])
    case .router:
      OpDefinition(
        summary: "a mixture's router: a score per expert", spelling: nil, arity: .one, inputRank: .any, traits: [.countsChannels],
        parameters: [.init(.weight)])
    case .moe:
      OpDefinition(
        summary: "a mixture's output: the routed experts' weighted sum", spelling: nil, arity: .many, inputRank: .any, traits: [],
        parameters: [])
    case .slice:
      OpDefinition(
        summary: "one part of the channels (a split parallel's branch input)", spelling: nil, arity: .one, inputRank: .any,
        traits: [], parameters: [])
    }
  }

  private static let weightAndBias: [ParameterSpec] = [.init(.weight), .init(.bias, onlyWithBias: true)]

  /// An element-wise activation without options.
  private static func activation(_ op: OpKind, _ summary: String, aliases: [String] = [], extra: OpTraits = []) -> OpDefinition {
    OpDefinition(
      summary: summary, spelling: LayerSpelling(name: op.rawValue, aliases: aliases, op: op, meaning: summary), arity: .one,
      inputRank: .any,
      traits: OpTraits([.elementwise, .activation, .keepsChannels, .inPlace]).union(extra), parameters: [])
  }
}
