/// An option a layer may take besides its kernel and count, as the spec writes its key.
public enum OptionKey: String, CaseIterable, Hashable, Sendable {
  case stride, pad, dilation, groups, bias, round, eps, slope, p

  /// What kind of value the option takes, for the parser's messages, the schema and the docs.
  public enum ValueKind: Sendable, Equatable {
    /// One integer for every axis, or one per spatial axis.
    case perAxis
    /// Integers per axis, `begin:end`, `same` or `valid`.
    case padding
    /// One integer, at least 1.
    case positiveInteger
    /// `true` or `false`.
    case boolean
    /// One of the listed words.
    case word([String])
    /// A real number in a range.
    case real(ClosedRange<Double>)
  }

  /// The kind of value.
  public var valueKind: ValueKind {
    switch self {
    case .stride, .dilation: .perAxis
    case .pad: .padding
    case .groups: .positiveInteger
    case .bias: .boolean
    case .round: .word(["floor", "ceil"])
    case .eps: .real(Double.leastNonzeroMagnitude...1)
    case .slope: .real(-1e6...1e6)
    case .p: .real(0...1)
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
    case .bias: "Whether the layer adds a bias (default true)."
    case .round: "Rounding of a pool's output extent: `floor` (default) or `ceil` (Caffe)."
    case .eps: "Batch norm epsilon (default 1e-5)."
    case .slope: "LeakyReLU negative slope (default 0.01)."
    case .p: "Dropout probability (no effect at inference)."
    }
  }
}
