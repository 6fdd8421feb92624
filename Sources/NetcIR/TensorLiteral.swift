import NetcDiagnostics

/// A tensor written in a spec or a JSON/YAML file (a number, or nested lists of numbers,
/// outermost first), lowered from its source: the backends turn it into a tensor of their
/// precision without seeing YAML.
///
/// A literal that is not a tensor keeps the first problem found, in reading order; the
/// numbers read before it stay, so that a number out of the backend's range that comes
/// earlier is still reported first, as reading element by element would.
public struct TensorLiteral: Sendable {
  /// A finite number that fp32 cannot hold (`1e40`): an error only at that precision.
  public struct Narrowing: Sendable {
    /// Its position among `values`.
    public var index: Int
    /// The number.
    public var value: Double
    /// How it was written, for the message.
    public var text: String
    /// Where it was written.
    public var range: SourceRange

    /// Creates a record of a number beyond fp32.
    public init(index: Int, value: Double, text: String, range: SourceRange) {
      self.index = index
      self.value = value
      self.text = text
      self.range = range
    }
  }

  /// The extents of the nesting, outermost first; `[]` for a plain number.
  public var shape: [Int]
  /// The numbers in row-major order: all of them, or those read before `problem`.
  public var values: [Double]
  /// Why the literal is not a tensor (ragged nesting, a non-number), if it is not.
  public var problem: Diagnostic?
  /// The first number that fp32 cannot hold, if any.
  public var beyondFP32: Narrowing?

  /// Creates a literal.
  public init(shape: [Int], values: [Double], problem: Diagnostic? = nil, beyondFP32: Narrowing? = nil) {
    self.shape = shape
    self.values = values
    self.problem = problem
    self.beyondFP32 = beyondFP32
  }
}
