import NetcIR

/// `PAD`: zeros around the spatial axes of `...xC` (channels untouched), as `F.pad` with
/// constant 0 does on PyTorch's `NCHW`.
enum ZeroPad {
  /// `PAD`'s zeros before each spatial axis, the one placement the interpreter and the
  /// exports share. A begin written with a var (the shapes know the total only) is the
  /// total less a constant end, or half the total.
  static func begin(_ node: Node, _ inShape: [Int], _ outShape: [Int]) -> [Int] {
    let axes = inShape.count - 1
    guard case .explicit(let begin, let end) = node.attributes.padding else { return Array(repeating: 0, count: axes) }
    func pick(_ v: [SymValue], _ axis: Int) -> Int? { v.isEmpty ? 0 : (v.count == 1 ? v[0] : v[axis]).expr.constant }
    return (0..<axes).map { axis in
      let total = outShape[axis] - inShape[axis]
      if let b = pick(begin, axis) { return b }
      if let e = pick(end, axis) { return total - e }
      return total / 2
    }
  }

  /// Where each input element lands in the padded output.
  static func targets(_ inShape: [Int], _ outShape: [Int], begin: [Int]) -> [Int] {
    let n = inShape.reduce(1, *)
    let outStrides = strides(of: outShape)
    var result = [Int](repeating: 0, count: n)
    var index = Array(repeating: 0, count: inShape.count)
    for i in 0..<n {
      var offset = 0
      for axis in 0..<inShape.count { offset += (index[axis] + (axis < begin.count ? begin[axis] : 0)) * outStrides[axis] }
      result[i] = offset
      var axis = inShape.count - 1
      while axis >= 0 {
        index[axis] += 1
        if index[axis] < inShape[axis] { break }
        index[axis] = 0
        axis -= 1
      }
    }
    return result
  }

  static func forward<T: TensorScalar>(_ x: [T], _ inShape: [Int], _ outShape: [Int], begin: [Int]) -> [T] {
    var y = [T](repeating: 0, count: outShape.reduce(1, *))
    for (i, t) in targets(inShape, outShape, begin: begin).enumerated() { y[t] = x[i] }
    return y
  }

  /// The gradient: the interior of dy.
  static func backward<T: TensorScalar>(_ dy: [T], _ inShape: [Int], _ outShape: [Int], begin: [Int]) -> [T] {
    targets(inShape, outShape, begin: begin).map { dy[$0] }
  }
}
