/// The optimizers whose state training memory counts (`analyze --train`, a `training` budget).
public enum Optimizer: String, CaseIterable, Hashable, Sendable {
  case sgd, momentum, adam, adamw

  /// Copies of the parameters the optimizer keeps: SGD none, momentum its velocity, Adam
  /// and AdamW the first and second moments.
  public var states: Int {
    switch self {
    case .sgd: 0
    case .momentum: 1
    case .adam, .adamw: 2
    }
  }
}
