import CNetcKernels

#if canImport(Glibc)
  import Glibc
#endif

/// The element types `run` computes in: Float (`--precision f32`) and Double (`f64`).
///
/// One generic code path serves both; the few operations that need the C library or BLAS
/// (exp, erf, GEMM) come through this protocol so the generic code stays specialisable.
public protocol TensorScalar: BinaryFloatingPoint & SIMDScalar & Codable & Sendable where Self.RawSignificand: FixedWidthInteger {
  /// The NumPy type code of this element (`<f4`, `<f8`).
  static var npyDescriptor: String { get }
  /// e^x.
  static func exp(_ x: Self) -> Self
  /// Natural logarithm.
  static func log(_ x: Self) -> Self
  /// Hyperbolic tangent.
  static func tanh(_ x: Self) -> Self
  /// The error function.
  static func erf(_ x: Self) -> Self
  /// Square root.
  static func sqrt(_ x: Self) -> Self
  /// Row-major `C = alpha * op(A) * op(B) + beta * C` through BLAS (`netc_blas.h`).
  static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
    a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int, beta: Self,
    c: UnsafeMutablePointer<Self>, ldc: Int)
  /// Row-major `y += A x` (`A` is `m x n`) through BLAS.
  static func gemv(m: Int, n: Int, a: UnsafePointer<Self>, lda: Int, x: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>)
  /// Rows `rows` and columns `columns` of `c = a wᵀ + bias` on `CNetcKernels`' packed GEMM
  /// (`netc_linear`), `w` `[out][in]` with leading dimension `ldw`; false (nothing written)
  /// where those kernels do not apply (fp64, a CPU without AVX2), for BLAS to do it.
  static func linear(
    _ a: UnsafePointer<Self>, lda: Int, _ w: UnsafePointer<Self>, ldw: Int, k: Int, into c: UnsafeMutablePointer<Self>, ldc: Int,
    bias: UnsafePointer<Self>?, rows: Range<Int>, columns: Range<Int>
  ) -> Bool
  /// `row[j] = e^(row[j] - shift)` for j < n, and their sum.
  static func expShifted(_ row: UnsafeMutablePointer<Self>, _ n: Int, shift: Self) -> Self
}

extension TensorScalar {
  public static func expShifted(_ row: UnsafeMutablePointer<Self>, _ n: Int, shift: Self) -> Self {
    var sum: Self = 0
    for j in 0..<n {
      row[j] = exp(row[j] - shift)
      sum += row[j]
    }
    return sum
  }
}

extension Float: TensorScalar {
  public static var npyDescriptor: String { "<f4" }
  public static func exp(_ x: Float) -> Float { Glibc.expf(x) }
  public static func log(_ x: Float) -> Float { Glibc.logf(x) }
  public static func tanh(_ x: Float) -> Float { Glibc.tanhf(x) }
  public static func erf(_ x: Float) -> Float { Glibc.erff(x) }
  public static func sqrt(_ x: Float) -> Float { x.squareRoot() }
  public static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    netc_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
  }
  public static func gemv(
    m: Int, n: Int, a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
  ) {
    netc_sgemv(m, n, a, lda, x, y)
  }
  public static func linear(
    _ a: UnsafePointer<Float>, lda: Int, _ w: UnsafePointer<Float>, ldw: Int, k: Int, into c: UnsafeMutablePointer<Float>, ldc: Int,
    bias: UnsafePointer<Float>?, rows: Range<Int>, columns: Range<Int>
  ) -> Bool {
    netc_linear(a, lda, w, ldw, k, c, ldc, bias, nil, 0, rows.lowerBound, rows.upperBound, columns.lowerBound, columns.upperBound)
      != 0
  }
  public static func expShifted(_ row: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
    netc_exp_shifted(row, n, shift)
  }
}

extension Double: TensorScalar {
  public static var npyDescriptor: String { "<f8" }
  public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
  public static func log(_ x: Double) -> Double { Glibc.log(x) }
  public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
  public static func erf(_ x: Double) -> Double { Glibc.erf(x) }
  public static func sqrt(_ x: Double) -> Double { x.squareRoot() }
  public static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
    a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int, beta: Double,
    c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    netc_dgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
  }
  public static func gemv(
    m: Int, n: Int, a: UnsafePointer<Double>, lda: Int, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>
  ) {
    netc_dgemv(m, n, a, lda, x, y)
  }
  public static func linear(
    _ a: UnsafePointer<Double>, lda: Int, _ w: UnsafePointer<Double>, ldw: Int, k: Int, into c: UnsafeMutablePointer<Double>,
    ldc: Int, bias: UnsafePointer<Double>?, rows: Range<Int>, columns: Range<Int>
  ) -> Bool { false }
}

/// A dense tensor: a shape (outermost first) and its elements in row-major (C) order.
///
/// Activations are channels-last (`HxWxC`), as the spec writes shapes; weights keep
/// PyTorch's layouts (`[Cout][Cin/groups][kh][kw]`, `[out][in]`).
public struct Tensor<T: TensorScalar>: Sendable, Equatable {
  /// Extents, outermost first; empty for a scalar.
  public var shape: [Int]
  /// The elements, row-major.
  public var data: [T]

  /// A tensor of `shape` holding `data` (whose count must be the shape's product).
  public init(shape: [Int], data: [T]) {
    precondition(shape.reduce(1, *) == data.count, "tensor data does not fit its shape")
    self.shape = shape
    self.data = data
  }

  /// A tensor of `shape` filled with `value`.
  public init(shape: [Int], repeating value: T = 0) {
    self.shape = shape
    self.data = Array(repeating: value, count: shape.reduce(1, *))
  }

  /// The number of elements.
  public var count: Int { data.count }

  /// The same elements in another precision.
  public func converted<U: TensorScalar>(to: U.Type = U.self) -> Tensor<U> {
    Tensor<U>(shape: shape, data: data.map { U($0) })
  }
}

/// Row-major strides of a shape.
func strides(of shape: [Int]) -> [Int] {
  var s = Array(repeating: 1, count: shape.count)
  var acc = 1
  for i in stride(from: shape.count - 1, through: 0, by: -1) {
    s[i] = acc
    acc *= shape[i]
  }
  return s
}
