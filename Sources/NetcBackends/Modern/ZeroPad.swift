/// `PAD`: zeros around the spatial axes of `...xC` (channels untouched), as `F.pad` with
/// constant 0 does on PyTorch's `NCHW`.
enum ZeroPad {
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
