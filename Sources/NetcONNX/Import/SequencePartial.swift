import NetcBackends

/// A linear projection recognized (Gemm, or MatMul and its bias Add) but not yet made a
/// layer: attention's projections become part of an ATTN, any other reader makes it a LINEAR.
struct PendingLinear {
  /// The tensor the projection wrote first: one LINEAR per key, however many aliases read it.
  var key: String
  var input: Int
  /// `[out][in]`, PyTorch's layout.
  var weight: Tensor<Float>
  var bias: [Float]?
  var nodeName: String
  var modulePath: String?
  /// The module path of the node alone, not its weight's: a head tied to an embedding reads
  /// the embedding's table, whose name is the embedding's.
  var nodeModulePath: String?
  var opType: String
  /// Whether its input was made time-major (`[T, 1, C]`, torch's MultiheadAttention), which
  /// its Shape reports.
  var timeMajor = false
  var units: Int { weight.shape[0] }
}

/// Rows `offset..<offset+count` of a projection: one of Q, K, V of a fused `c_attn`.
struct Projection {
  var linear: PendingLinear
  var offset: Int
  var count: Int
}

/// A projection split into heads: `[1, T, H, D]`; transposed `[1, H, T, D]` (`keys`:
/// `[1, H, D, T]`); queries of grouped-query attention `[1, T, Kv, G, D]` (transposed
/// `[1, Kv, G, T, D]`).
struct Heads {
  var proj: Projection
  var heads: Int
  var dim: Int
  var transposed = false
  var keys = false
  /// The product of scalar factors applied (torch's SDPA scales Q and K apart).
  var scale: Float = 1
  /// The rotary base when the heads were turned by position (`rope`).
  var theta: Double?
  /// Query heads per key/value head, when the queries are grouped (5-D).
  var groups = 1
  /// Copies of each key/value head, when transformers' `repeat_kv` made one per query head
  /// of its group (`[1, Kv, T, D]` unsqueezed, expanded to `[1, Kv, G, T, D]`, reshaped to
  /// `[1, Kv·G, T, D]`); `heads` stays Kv.
  var repeats = 1
  /// Batch and heads merged into one axis, as torch's SDPA decomposition (the dynamo
  /// exporter) transposes the keys: `[H, T, D]` (`keys`: `[H, D, T]`).
  var flat = false
}

/// A step of the rotary turn `x cos + rotate_half(x) sin` of some heads.
enum RotaryStep {
  case firstHalf, secondHalf, negatedSecond, rotated
  case timesCos([Float])
  case rotatedTimesSin([Float])
}

/// Attention's state between its MatMuls: the projections read and what was applied.
struct AttentionParts {
  var q: Projection
  var k: Projection
  var v: Projection?
  var heads: Int
  var kvHeads: Int
  var headDim: Int
  /// The product of the scalar factors on the scores (torch's SDPA scales Q and K by the
  /// square root of it each).
  var scale: Float
  var causal = false
  var theta: Double?
  /// Copies of each key/value head (`Heads.repeats`): the heads are grouped, and yet the
  /// scores and the context have one axis of `heads`.
  var repeats = 1
  /// The node that computed the probabilities: the ATTN's module and name.
  var softmaxNode = ""
  var modulePath: String?
  var wo: Tensor<Float>?
  var bo: [Float]?
}

/// A tensor on the way through a transformer pattern, not (yet) a layer's output.
enum SequencePartial {
  case linear(PendingLinear)
  /// A spatial layer's `[1, C, H*W]`, transposed next into tokens (ViT's patches).
  case grid(Int)
  case slice(Projection)
  /// A projection of `parts` packed parts (torch's MultiheadAttention's q, k, v), on the way
  /// to being taken one by one.
  case packed(PendingLinear, parts: Int, stage: PackedStage)
  case heads(Heads)
  case rotary(Heads, RotaryStep)
  case scores(AttentionParts)
  case probs(AttentionParts)
  /// IsNaN of the probabilities: torch's SDPA decomposition zeroes a fully masked row's
  /// NaNs (`where(isnan(p), 0, p)`), which netc's masks (none, or causal) never make.
  case probsNaN(AttentionParts)
  case context(AttentionParts)
  case contextT(AttentionParts)
  case merged(AttentionParts)
  /// The output projection read the merged heads: the whole ATTN, its `bo` maybe to come.
  case attention(AttentionParts)
  // GELU's tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  case square(Int)
  case cube(Int)
  case cubeScaled(Int)
  case inner(Int)
  case innerScaled(Int)
  case tanh(Int)
  case onePlusTanh(Int)
  case half(Int)
  case timesOnePlus(Int)
  // Layer norm spelled out: (x - mean) / sqrt(var + eps) * gamma + beta; RMS norm.
  case mean(Int)
  case centered(Int)
  case centeredSquare(Int)
  case variance(Int)
  case varianceEps(Int, Float)
  case deviation(Int, Float)
  case normalized(Int, Float)
  case meanSquare(Int)
  case meanSquareEps(Int, Float)
  case rms(Int, Float)
  /// 1 / rms, as transformers' LlamaRMSNorm writes it (`x * torch.rsqrt(...)`).
  case inverseRms(Int, Float)
  case rmsNormalized(Int, Float)
  /// A norm's result with γ applied: a layer when read, unless β is added next.
  case normScaled(x: Int, eps: Float, gamma: [Float], rms: Bool, node: String, module: String?)
}
