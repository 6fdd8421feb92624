import NetcIR

/// The activations a conv's output pass can apply in place of a separate ReLU/ReLU6 node.
enum FusedActivation: Sendable {
  case none, relu, relu6

  /// The epilogue that applies `op`, or nil where the kernels have none: the interpreter's
  /// answer for every op of the `fusableActivation` group.
  init?(_ op: OpKind) {
    guard op.traits.contains(.fusableActivation) else { return nil }
    switch op {
    case .relu: self = .relu
    case .relu6: self = .relu6
    // The C epilogues have no slope argument: LeakyReLU stays a node of its own here.
    case .leakyrelu: return nil
    case .input, .conv, .dwconv, .pwconv, .maxpool, .avgpool, .gap, .gmp, .fc, .flatten, .bn, .sigmoid, .tanh, .softmax, .gelu,
      .identity, .dropout, .add, .concat, .deconv, .linear, .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid, .droppath,
      .layerscale, .embed, .posembed, .typeembed, .clstoken, .tokens, .take, .attention, .upsample, .pad, .shuffle, .mul, .router,
      .moe, .slice:
      return nil
    }
  }

  /// The `activation` argument of `CNetcKernels`' functions.
  var kernelCode: Int32 {
    switch self {
    case .none: 0
    case .relu: 1
    case .relu6: 2
    }
  }
}

/// What a conv applies to each output tile while it is still in cache, in order: the bias,
/// a residual (a fused ADD's other input, same shape as the output), an activation.
///
/// The arithmetic is the unfused graph's, operation for operation (`(sum + bias) + residual`,
/// then the activation), so fusing changes no bit; only BN folding (see `InferencePlan`)
/// rounds differently.
struct OutputPass<T: TensorScalar>: @unchecked Sendable {
  var bias: UnsafePointer<T>?
  var residual: UnsafePointer<T>?
  var activation: FusedActivation = .none

  /// Whether the pass does nothing.
  var isEmpty: Bool { bias == nil && residual == nil && activation == .none }

  /// Applies the pass to rows `p0..<p1` of the channels-last output `y` (`channels` wide).
  func apply(_ y: UnsafeMutablePointer<T>, rows p0: Int, _ p1: Int, channels c: Int) {
    if isEmpty { return }
    if let bias {
      // One pass (a folded BN always brings a bias).
      biasPass(y + p0 * c, rows: p1 - p0, channels: c, bias: bias, residual: residual.map { $0 + p0 * c }, activation)
      return
    }
    if residual != nil {
      for p in p0..<p1 {
        var j = 0
        while j + 8 <= c {
          addTerms(SIMD8<T>.load(y + p * c + j), at: p * c + j, channel: j).store(y + p * c + j)
          j += 8
        }
        while j < c {
          y[p * c + j] = addTerms(y[p * c + j], at: p * c + j, channel: j)
          j += 1
        }
      }
    }
    activate(y + p0 * c, count: (p1 - p0) * c)
  }

  /// The bias and residual added to 8 sums of channels `channel..<channel+8`, at element
  /// offset `offset` of the output.
  @inline(__always)
  func addTerms(_ sum: SIMD8<T>, at offset: Int, channel: Int) -> SIMD8<T> {
    var v = sum
    if let bias { v = v + SIMD8<T>.load(bias + channel) }
    if let residual { v = v + SIMD8<T>.load(residual + offset) }
    return v
  }

  /// The bias and residual added to one sum.
  @inline(__always)
  func addTerms(_ sum: T, at offset: Int, channel: Int) -> T {
    var v = sum
    if let bias { v = v + bias[channel] }
    if let residual { v = v + residual[offset] }
    return v
  }

  /// The activation over `count` elements at `y`.
  @inline(__always)
  func activate(_ y: UnsafeMutablePointer<T>, count: Int) {
    switch activation {
    case .none: return
    case .relu: reluLoop(y, count)
    case .relu6: relu6Loop(y, count)
    }
  }
}

// The activations as plain loops of their own, in the forms LLVM vectorises (SSE max/min):
// `v > 0 ? v : 0` compiled to a branch and a conditional store per element, and SIMD mask
// operations (`.<`, `replacing`) to per-lane code through the stack, without target flags.

/// `y = act(y + bias [+ residual])` over `rows` rows of `c` channels, one plain loop per
/// combination so that LLVM vectorises each.
@inline(never)
func biasPass<T: TensorScalar>(
  _ y: UnsafeMutablePointer<T>, rows: Int, channels c: Int, bias b: UnsafePointer<T>, residual: UnsafePointer<T>?,
  _ activation: FusedActivation
) {
  for p in 0..<rows {
    let o = y + p * c
    if let residual {
      let r = residual + p * c
      switch activation {
      case .none: for j in 0..<c { o[j] = o[j] + b[j] + r[j] }
      case .relu: for j in 0..<c { o[j] = max(o[j] + b[j] + r[j], 0) }
      case .relu6: for j in 0..<c { o[j] = min(max(o[j] + b[j] + r[j], 0), 6) }
      }
    } else {
      switch activation {
      case .none: for j in 0..<c { o[j] = o[j] + b[j] }
      case .relu: for j in 0..<c { o[j] = max(o[j] + b[j], 0) }
      case .relu6: for j in 0..<c { o[j] = min(max(o[j] + b[j], 0), 6) }
      }
    }
  }
}

/// `max(x, 0)` in place, as `Interpreter.evaluate`'s ReLU (NaN stays NaN, as in PyTorch).
@inline(never)
func reluLoop<T: TensorScalar>(_ y: UnsafeMutablePointer<T>, _ count: Int) {
  for i in 0..<count { y[i] = max(y[i], 0) }
}

/// `min(max(x, 0), 6)` in place, as `Interpreter.evaluate`'s ReLU6.
@inline(never)
func relu6Loop<T: TensorScalar>(_ y: UnsafeMutablePointer<T>, _ count: Int) {
  for i in 0..<count { y[i] = min(max(y[i], 0), 6) }
}

extension SIMD8 where Scalar: TensorScalar {
  /// Eight elements from `p` (no alignment needed).
  @inline(__always)
  static func load(_ p: UnsafePointer<Scalar>) -> Self {
    UnsafeRawPointer(p).loadUnaligned(as: Self.self)
  }

  /// Stores the eight elements at `p` (no alignment needed).
  @inline(__always)
  func store(_ p: UnsafeMutablePointer<Scalar>) {
    UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self)
  }
}
