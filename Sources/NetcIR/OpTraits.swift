/// The groups an op belongs to, which passes and backends ask about instead of listing ops.
public struct OpTraits: OptionSet, Hashable, Sendable {
  public let rawValue: UInt32

  /// Creates traits from their bits.
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// Slides a window over the spatial axes (kernel, stride, padding, dilation).
  public static let windowed = OpTraits(rawValue: 1 << 0)
  /// A convolution of some kind: weights `[Cout][Cin/groups][k...]`.
  public static let convolution = OpTraits(rawValue: 1 << 1)
  /// A pool with a window: its stride defaults to the kernel, it may round up.
  public static let pool = OpTraits(rawValue: 1 << 2)
  /// Applied element by element, keeping the shape.
  public static let elementwise = OpTraits(rawValue: 1 << 3)
  /// An activation function: applying it twice in a row is suspicious.
  public static let activation = OpTraits(rawValue: 1 << 4)
  /// f(f(x)) = f(x): a second application does nothing at all.
  public static let idempotent = OpTraits(rawValue: 1 << 5)
  /// The output has the input's channels (the last extent), whatever else changes.
  public static let keepsChannels = OpTraits(rawValue: 1 << 6)
  /// Passes its input through unchanged at inference: a backend aliases the input.
  public static let aliasAtInference = OpTraits(rawValue: 1 << 7)
  /// May write its output over its (first) input's buffer when nothing else reads it.
  public static let inPlace = OpTraits(rawValue: 1 << 8)
  /// An activation that a conv's or fc's store can apply (fused into the epilogue).
  public static let fusableActivation = OpTraits(rawValue: 1 << 9)
  /// The count is the output's channels (filters, units, width); a depthwise conv's, their
  /// multiplier.
  public static let countsChannels = OpTraits(rawValue: 1 << 10)
}
