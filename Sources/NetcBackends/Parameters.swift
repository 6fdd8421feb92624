import NetcIR
import NetcPasses

/// The tensors one layer owns, in PyTorch's layouts.
public struct LayerParameters<T: TensorScalar>: Sendable {
  /// Conv `[Cout][Cin/g][k...]` or FC `[out][in]`.
  public var weight: Tensor<T>?
  /// Conv or FC bias `[Cout]`.
  public var bias: Tensor<T>?
  /// BN scale, shift, running mean and running variance, each `[C]`.
  public var gamma: Tensor<T>?, beta: Tensor<T>?, mean: Tensor<T>?, variance: Tensor<T>?
  /// Attention's projections, by kind.
  public var projections: [ParameterKind: Tensor<T>] = [:]

  /// Empty parameters.
  public init() {}

  /// The tensor of a parameter by its key (`weight`, `bias`, `gamma`, `beta`, `mean`, `var`).
  public subscript(key: ParameterKind) -> Tensor<T>? {
    get {
      switch key {
      case .weight: weight
      case .bias: bias
      case .gamma: gamma
      case .beta: beta
      case .mean: mean
      case .variance: variance
      case .wq, .bq, .wk, .bk, .wv, .bv, .wo, .bo: projections[key]
      }
    }
    set {
      switch key {
      case .weight: weight = newValue
      case .bias: bias = newValue
      case .gamma: gamma = newValue
      case .beta: beta = newValue
      case .mean: mean = newValue
      case .variance: variance = newValue
      case .wq, .bq, .wk, .bk, .wv, .bv, .wo, .bo: projections[key] = newValue
      }
    }
  }

  /// The same tensors in another precision.
  public func converted<U: TensorScalar>(to: U.Type = U.self) -> LayerParameters<U> {
    var p = LayerParameters<U>()
    for kind in ParameterKind.allCases { p[kind] = self[kind]?.converted(to: U.self) }
    return p
  }
}
