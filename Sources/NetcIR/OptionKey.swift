/// An option a layer may take besides its kernel and count, as the spec writes its key.
public enum OptionKey: String, CaseIterable, Hashable, Sendable {
  case stride, pad, dilation, groups, bias, round, eps, slope, p
  case outpad, approx, vocab, tie, kind, index, kv, dim, causal, rope, theta, cross, size, mode

  /// What kind of value the option takes, for the parser's messages, the schema and the docs.
  public enum ValueKind: Sendable, Equatable {
    /// One integer for every axis, or one per spatial axis.
    case perAxis
    /// Integers per axis, `begin:end`, `same` or `valid`.
    case padding
    /// One integer, at least 1.
    case positiveInteger
    /// One integer, negative counting from the end.
    case integer
    /// `true` or `false`; the bare key means `true`.
    case boolean
    /// One of the listed words.
    case word([String])
    /// A real number in a range.
    case real(ClosedRange<Double>)
    /// The name of an earlier layer, as its full dotted path or within the scope.
    case layerName
  }

  /// The kind of value.
  public var valueKind: ValueKind {
    switch self {
    case .stride, .dilation, .outpad, .size: .perAxis
    case .pad: .padding
    case .groups, .vocab, .kv, .dim: .positiveInteger
    case .index: .integer
    case .bias, .causal, .rope: .boolean
    case .round: .word(["floor", "ceil"])
    case .approx: .word(["none", "tanh"])
    case .kind: .word(["learned", "sinusoidal"])
    case .mode: .word(["nearest", "bilinear"])
    case .eps: .real(Double.leastNonzeroMagnitude...1)
    case .slope: .real(-1e6...1e6)
    case .p: .real(0...1)
    case .theta: .real(1...1e12)
    case .tie, .cross: .layerName
    }
  }

  /// What the option means, with its default: the schema's description.
  public var summary: String {
    switch self {
    case .stride: "Step between windows: one integer, or one per spatial axis (default 1; pools: the kernel)."
    case .pad:
      "Padding: an integer, one per spatial axis, `begin:end`, `valid` (0, the default) or `same` (TensorFlow's: output = ceil(input / stride))."
    case .dilation: "Spacing of the kernel's taps: one integer, or one per spatial axis (default 1)."
    case .groups: "Groups of a grouped convolution: input channels and filters must both divide by it."
    case .bias: "Whether the layer adds a bias (default true; RMSNORM: false)."
    case .round: "Rounding of a pool's output extent: `floor` (default) or `ceil` (Caffe)."
    case .eps: "Normalization epsilon (default 1e-5)."
    case .slope: "LeakyReLU negative slope (default 0.01)."
    case .p: "Drop probability (no effect at inference)."
    case .outpad:
      "Extra output extent at the end of each spatial axis of a transposed conv (default 0; less than the stride or the dilation)."
    case .approx: "GELU's form: `none` (erf, the default) or `tanh` (the tanh approximation, GPT-2's)."
    case .vocab: "Vocabulary size: rows of the embedding table."
    case .tie: "Share the weight of an earlier layer (GPT-2's LM head and token embedding): counted once."
    case .kind: "Position embedding: `learned` (a table, the default) or `sinusoidal` (no parameters)."
    case .index: "Which token to take: 0 the first (the class token, the default), -1 the last."
    case .kv: "Key/value heads (default: the heads; fewer for grouped-query, 1 for multi-query attention); must divide the heads."
    case .dim: "Width of one head (default: the model width / heads)."
    case .causal: "Causal mask (no effect on counts: the full T x T products are computed)."
    case .rope: "Rotary position embedding on queries and keys (no parameters)."
    case .theta:
      "Rotary base: position p turns channel pair i by p * theta^(-2i/D) (default 10000; Llama 3: 500000, Mixtral: 1000000); needs `rope`."
    case .cross: "Cross-attention: keys and values from this earlier layer's output (an encoder's)."
    case .size: "Output extents of each spatial axis, instead of a scale."
    case .mode: "Upsampling: `nearest` (the default) or `bilinear`."
    }
  }
}
