import CNetcKernels

/// The activations of the 0.2 vocabulary, each with the derivative PyTorch's autograd
/// uses (the same one-sided choices at the kinks of the hard forms, so gradients agree
/// bit for bit in intent, not only almost everywhere).
enum GatedActivation {
  /// SiLU: x * sigmoid(x).
  static func silu<T: TensorScalar>(_ x: [T]) -> [T] { x.map { $0 / (1 + T.exp(-$0)) } }

  /// d/dx x*s(x) = s(x) * (1 + x * (1 - s(x))).
  static func siluGradient<T: TensorScalar>(_ x: [T], _ dy: [T]) -> [T] {
    zip(x, dy).map { v, g in
      let s = 1 / (1 + T.exp(-v))
      return g * s * (1 + v * (1 - s))
    }
  }

  /// Hard-swish: x * relu6(x + 3) / 6.
  static func hardswish<T: TensorScalar>(_ x: [T]) -> [T] { x.map { $0 * min(max($0 + 3, 0), 6) / 6 } }

  /// PyTorch's `hardswish_backward`: 0 below -3, x / 3 + 1/2 on [-3, 3], 1 above.
  static func hardswishGradient<T: TensorScalar>(_ x: [T], _ dy: [T]) -> [T] {
    zip(x, dy).map { v, g in v < -3 ? 0 : v <= 3 ? g * (v / 3 + T(0.5)) : g }
  }

  /// Hard-sigmoid: relu6(x + 3) / 6.
  static func hardsigmoid<T: TensorScalar>(_ x: [T]) -> [T] { x.map { min(max($0 + 3, 0), 6) / 6 } }

  /// PyTorch's `hardsigmoid_backward`: 1/6 strictly inside (-3, 3), else 0. Its 1/6 is
  /// the float literal `1.0f / 6.0f` for every dtype (Activation.cpp), so double gradients
  /// differ from the exact slope by 3e-8 relative; netc takes PyTorch's value, its oracle.
  static func hardsigmoidGradient<T: TensorScalar>(_ x: [T], _ dy: [T]) -> [T] {
    let sixth = T(Float(1) / Float(6))
    return zip(x, dy).map { v, g in v > -3 && v < 3 ? g * sixth : 0 }
  }

  /// sqrt(2 / pi), the tanh form's inner scale.
  static func tanhScale<T: TensorScalar>(_: T.Type) -> T { T.sqrt(2 / T.pi) }

  /// GELU's tanh approximation (GPT-2's, PyTorch's `approximate='tanh'`):
  /// x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))). In fp32 through the vectorised
  /// `netc_gelu_tanh`, in chunks spread over the threads.
  static func geluTanh<T: TensorScalar>(_ x: [T], threads: Int = 1) -> [T] {
    if T.self == Float.self { return elementwise(x, threads: threads, netc_gelu_tanh) }
    let k = tanhScale(T.self), c = T(0.044715)
    return x.map { v in v / 2 * (1 + T.tanh(k * (v + c * v * v * v))) }
  }

  /// GELU's exact form x/2 * (1 + erf(x / sqrt 2)) (PyTorch's default, BERT's and ViT's).
  /// In fp32 through the vectorised `netc_gelu_erf`, in chunks spread over the threads.
  static func gelu<T: TensorScalar>(_ x: [T], threads: Int = 1) -> [T] {
    if T.self == Float.self { return elementwise(x, threads: threads, netc_gelu_erf) }
    return x.map { $0 * (1 + T.erf($0 / T.sqrt(2))) / 2 }
  }

  /// The C kernels' signature: `n` elements of `x` to `y`.
  typealias Kernel = @convention(c) (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void

  /// `kernel` over fp32 `x` in chunks spread over the threads.
  static func elementwise<T: TensorScalar>(_ x: [T], threads: Int, _ kernel: Kernel) -> [T] {
    let xf = unsafeBitCast(x, to: [Float].self), n = xf.count
    let y = [Float](unsafeUninitializedCapacity: n) { yb, count in
      count = n
      guard n > 0 else { return }
      xf.withUnsafeBufferPointer { elementwise($0.baseAddress!, into: yb.baseAddress!, count: n, threads: threads, kernel) }
    }
    return unsafeBitCast(y, to: [T].self)
  }

  /// `kernel` from `count` elements at `x` into `y`, in chunks of 16 K elements spread over
  /// the threads.
  static func elementwise(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int, threads: Int, _ kernel: Kernel) {
    let chunk = 1 << 14
    let xs = SharedPointer(base: UnsafeMutablePointer(mutating: x)), ys = SharedPointer(base: y)
    parallelFor((n + chunk - 1) / chunk, threads: threads, cost: n &* 16) { c in
      let i = c * chunk
      kernel(xs.base + i, ys.base + i, min(chunk, n - i))
    }
  }

  /// (1 + t)/2 + x/2 * (1 - t^2) * sqrt(2/pi) * (1 + 3 * 0.044715 x^2), t the tanh above.
  static func geluTanhGradient<T: TensorScalar>(_ x: [T], _ dy: [T]) -> [T] {
    let k = tanhScale(T.self), c = T(0.044715)
    return zip(x, dy).map { v, g in
      let t = T.tanh(k * (v + c * v * v * v))
      return g * ((1 + t) / 2 + v / 2 * (1 - t * t) * k * (1 + 3 * c * v * v))
    }
  }
}
