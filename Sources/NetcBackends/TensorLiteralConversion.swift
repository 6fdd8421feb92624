import NetcDiagnostics
import NetcIR

extension Tensor {
  /// The tensor a literal writes, in precision `T`. A literal that is not a tensor throws
  /// its problem; a number that `T` cannot hold (1e40 is a finite Double but infinite in
  /// fp32) is an error rather than a silent inf, and comes first when it was written first.
  public init(_ literal: TensorLiteral) throws(DiagnosticError) {
    if let far = literal.beyondFP32, !T(far.value).isFinite {
      throw DiagnosticError([
        .error(.invalidValue, "\(far.text) is out of range for \(T.npyDescriptor == "<f4" ? "fp32" : "fp64")", at: far.range)
      ])
    }
    if let problem = literal.problem { throw DiagnosticError([problem]) }
    // Double literals are taken as they are: a large tensor is not held twice.
    let data = (literal.values as? [T]) ?? literal.values.map { T($0) }
    self.init(shape: literal.shape, data: data)
  }
}
