import NetcDiagnostics
import NetcIR

/// The concrete window of a conv or pool along every spatial axis.
public struct Window: Hashable, Sendable {
  /// Kernel extent per axis.
  public var kernel: [Int]
  /// Stride per axis.
  public var stride: [Int]
  /// Padding before each axis.
  public var padBegin: [Int]
  /// Padding after each axis.
  public var padEnd: [Int]
  /// Dilation per axis.
  public var dilation: [Int]
  /// Floor or ceil rounding of the output extent.
  public var rounding: Rounding

  /// Creates a window.
  public init(kernel: [Int], stride: [Int], padBegin: [Int], padEnd: [Int], dilation: [Int], rounding: Rounding) {
    self.kernel = kernel
    self.stride = stride
    self.padBegin = padBegin
    self.padEnd = padEnd
    self.dilation = dilation
    self.rounding = rounding
  }

  /// The output extent along `axis` for input extent `input`, or nil on overflow:
  /// `out = floor_or_ceil((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1`,
  /// and with ceil a last window starting past the input and its begin padding dropped.
  public func outputExtent(_ input: Int, axis a: Int) -> Int? {
    windowExtent(
      input: input, kernel: kernel[a], stride: stride[a], padBegin: padBegin[a], padEnd: padEnd[a], dilation: dilation[a],
      rounding: rounding)
  }

  /// The arithmetic of `outputExtent`, for messages: `floor((16 + 2*0 - 3) / 3) + 1 = 5`.
  public func arithmetic(_ input: Int, axis a: Int) -> String {
    let k = kernel[a], s = stride[a], pb = padBegin[a], pe = padEnd[a], d = dilation[a]
    let padText = pb == pe ? "2*\(pb)" : "\(pb) + \(pe)"
    let kText = d == 1 ? "\(k)" : "\(d)*(\(k) - 1) - 1"
    let numeratorText = "\(input) + \(padText) - \(kText)"
    guard let out = outputExtent(input, axis: a) else { return "(\(numeratorText)) overflows 64-bit integers" }
    if rounding == .floor { return "floor((\(numeratorText)) / \(s)) + 1 = \(out)" }
    // `outputExtent` succeeded, so the numerator fits.
    let raw = -SymExpr.floorDivide(-(input + pb + pe - d * (k - 1) - 1), s) + 1
    let text = "ceil((\(numeratorText)) / \(s)) + 1 = \(raw)"
    return raw == out ? text : text + ", less the window that would start in the end padding: \(out)"
  }

  /// How many input rows at the end of `axis` no window reads: floor rounding leaves them
  /// out when the last window would reach past the end padding. The windows span
  /// `(output-1)*stride + dilation*(k-1) + 1` of the padded input from its start; what lies
  /// beyond that span and before the end padding is dropped. (Rows skipped between windows
  /// when the stride exceeds the window are not counted: that is subsampling, not rounding.)
  public func droppedInput(_ input: Int, output: Int, axis a: Int) -> Int {
    let covered = (output - 1) * stride[a] + dilation[a] * (kernel[a] - 1) + 1
    return max(0, input + padBegin[a] + padEnd[a] - covered - padEnd[a])
  }
}

/// The output extent of a window along one axis, nil on overflow: the solver's inner loop
/// and `Window.outputExtent`.
func windowExtent(input: Int, kernel k: Int, stride s: Int, padBegin pb: Int, padEnd pe: Int, dilation d: Int, rounding: Rounding) -> Int? {
  let (span, o1) = d.multipliedReportingOverflow(by: k - 1)
  let (padded, o2) = input.addingReportingOverflow(pb)
  let (padded2, o3) = padded.addingReportingOverflow(pe)
  let (n1, o4) = padded2.subtractingReportingOverflow(span)
  guard !(o1 || o2 || o3 || o4) else { return nil }
  let numerator = n1 - 1
  if rounding == .ceil {
    // ceil(n / s) as -floor(-n / s): no `n + s - 1` to overflow for a stride near 2^63.
    var out = -SymExpr.floorDivide(-numerator, s) + 1
    // A last window that would start past the input and its begin padding is dropped
    // (an overflowing start is past it too).
    let (start, o5) = (out - 1).multipliedReportingOverflow(by: s)
    if out >= 1, o5 || start >= padded { out -= 1 }
    return out
  }
  return SymExpr.floorDivide(numerator, s) + 1
}

/// TensorFlow's `same` padding along one axis: output = ceil(in / stride), total padding
/// max((out-1)*stride + (k-1)*dilation + 1 - in, 0), the odd unit at the end; nil when the
/// arithmetic overflows (a stride, kernel or dilation near 2^63).
func samePadding(input: Int, kernel: Int, stride: Int, dilation: Int) -> (begin: Int, end: Int)? {
  // ceil(in / stride) as (in - 1) / stride + 1, which cannot overflow for in >= 1.
  guard let reach = ((input - 1) / stride).times(stride),
    let span = (kernel - 1).times(dilation), let total = reach.plus(span)?.plus(1)?.minus(input)
  else { return nil }
  let padding = max(total, 0)
  return (padding / 2, padding - padding / 2)
}
