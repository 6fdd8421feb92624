/// The losses `netc run --loss` computes, and their gradients with respect to the output.
public enum Loss: String, CaseIterable, Sendable {
  /// Σ(y − t)².
  case sse
  /// ½Σ(y − t)².
  case halfSSE = "half-sse"
  /// mean (y − t)².
  case mse
  /// −log softmax(y)[t], with t a class index into the output's elements; for an `LxV`
  /// output and L targets (a language model's next tokens), the mean over positions of
  /// each row's, as PyTorch's `CrossEntropyLoss` on `(L, V)` logits.
  case crossEntropy = "cross-entropy"

  /// The loss of output `y` against `target` and dL/dy, or a message when the target does
  /// not fit (its shape, or a class index out of range).
  /// A class index as written: `5`, not `5.0`, when it is whole.
  static func number<T: TensorScalar>(_ v: T) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
  }

  public func evaluate<T: TensorScalar>(_ y: Tensor<T>, target: Tensor<T>) -> Result<(T, Tensor<T>), LossError> {
    switch self {
    case .sse, .halfSSE, .mse:
      // A target written as a flat list fits any output with as many elements.
      guard target.shape == y.shape || (target.shape.count <= 1 && target.count == y.count && !(target.shape.isEmpty && y.count != 1))
      else {
        return .failure(LossError(message: "the target is \(shapeText(target.shape)), the output is \(shapeText(y.shape))"))
      }
      var sum: T = 0
      var grad = [T](repeating: 0, count: y.count)
      let scale: T = self == .halfSSE ? 1 : 2
      let n = T(y.count)
      for i in 0..<y.count {
        let d = y.data[i] - target.data[i]
        sum += d * d
        grad[i] = self == .mse ? scale * d / n : scale * d
      }
      let loss = self == .sse ? sum : self == .halfSSE ? sum / 2 : sum / n
      return .success((loss, Tensor(shape: y.shape, data: grad)))
    case .crossEntropy where y.shape.count == 2 && target.shape == [y.shape[0]] && y.shape[0] > 1:
      return Self.perPositionCrossEntropy(y, target)
    case .crossEntropy:
      guard target.count == 1, let v = target.data.first, v == v.rounded(), v >= 0, Int(v) < y.count else {
        return .failure(
          LossError(
            message:
              "cross-entropy needs a class index from 0 to \(y.count - 1), got \(target.count == 1 ? Self.number(target.data[0]) : "a tensor of \(shapeText(target.shape))")"
          ))
      }
      let p = softmax(y.data, last: y.count)
      let t = Int(v)
      var grad = p
      grad[t] -= 1
      // −log p[t] computed as logsumexp − y[t], which stays finite when p[t] underflows.
      let m = y.data.max()!
      var s: T = 0
      for e in y.data { s += T.exp(e - m) }
      return .success((m + T.log(s) - y.data[t], Tensor(shape: y.shape, data: grad)))
    }
  }
}

extension Loss {
  /// The mean over rows of `LxV` logits of −log softmax(row)[t_row], each as logsumexp − y[t]
  /// (finite when p[t] underflows); the gradient is (softmax(row) − onehot(t)) / L.
  static func perPositionCrossEntropy<T: TensorScalar>(_ y: Tensor<T>, _ target: Tensor<T>) -> Result<(T, Tensor<T>), LossError> {
    let rows = y.shape[0], v = y.shape[1]
    for (position, t) in target.data.enumerated() where !(t == t.rounded() && t >= 0 && t < T(v)) {
      return .failure(
        LossError(message: "cross-entropy needs class indices from 0 to \(v - 1), got \(number(t)) at position \(position)"))
    }
    var grad = softmax(y.data, last: v)
    var total: T = 0
    for r in 0..<rows {
      let row = y.data[(r * v)..<(r * v + v)], t = Int(target.data[r])
      let m = row.max()!
      var s: T = 0
      for e in row { s += T.exp(e - m) }
      total += m + T.log(s) - y.data[r * v + t]
      grad[r * v + t] -= 1
    }
    let n = T(rows)
    return .success((total / n, Tensor(shape: y.shape, data: grad.map { $0 / n })))
  }
}

/// A target that does not fit the output.
public struct LossError: Error, Sendable {
  /// What is wrong: lowercase, no trailing period.
  public var message: String
}

func shapeText(_ shape: [Int]) -> String { shape.isEmpty ? "a scalar" : shape.map(String.init).joined(separator: "x") }
