/// The `mul` merge: the element-wise product of its inputs, broadcast as NumPy does (shapes
/// aligned at the last axis, an extent of 1 or a missing axis repeats), so a `1x1xC`
/// squeeze-excitation gate scales every position of `HxWxC`.
enum BroadcastProduct {
  /// For each input, the offset of output element `i` in it.
  static func offsets(_ shape: [Int], into out: [Int]) -> [Int] {
    let n = out.reduce(1, *)
    let lead = out.count - shape.count
    var inStrides = Array(repeating: 0, count: out.count)
    var s = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
      inStrides[lead + axis] = shape[axis] == 1 ? 0 : s
      s *= shape[axis]
    }
    var result = [Int](repeating: 0, count: n)
    var index = Array(repeating: 0, count: out.count), offset = 0
    for i in 0..<n {
      result[i] = offset
      // Odometer step over the output's axes, last fastest.
      var axis = out.count - 1
      while axis >= 0 {
        index[axis] += 1
        offset += inStrides[axis]
        if index[axis] < out[axis] { break }
        offset -= inStrides[axis] * index[axis]
        index[axis] = 0
        axis -= 1
      }
    }
    return result
  }

  static func forward<T: TensorScalar>(_ inputs: [Tensor<T>], shape out: [Int]) -> [T] {
    var y = [T](repeating: 1, count: out.reduce(1, *))
    for t in inputs {
      let at = offsets(t.shape, into: out)
      for i in 0..<y.count { y[i] *= t.data[at[i]] }
    }
    return y
  }

  /// Input k's gradient: dy times the other inputs, summed over the positions k repeats.
  static func backward<T: TensorScalar>(_ inputs: [Tensor<T>], _ dy: [T], shape out: [Int]) -> [[T]] {
    let at = inputs.map { offsets($0.shape, into: out) }
    return inputs.indices.map { k in
      var dx = [T](repeating: 0, count: inputs[k].count)
      for i in 0..<dy.count {
        var g = dy[i]
        for j in inputs.indices where j != k { g *= inputs[j].data[at[j][i]] }
        dx[at[k][i]] += g
      }
      return dx
    }
  }
}
