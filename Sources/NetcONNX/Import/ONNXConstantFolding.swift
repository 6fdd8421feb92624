import NetcDiagnostics

/// The shape arithmetic exporters leave in a graph (torch.onnx writes a ZeroPad2d's pads as
/// ConstantOfShape, Concat, Reshape, Slice, Transpose and Cast of constants), evaluated when
/// the model is read: a node whose inputs are all constants becomes a constant. Only small
/// tensors are folded; weights never pass through these ops.
extension ONNXLayerRecognizer {
  /// The op types folded when their inputs are constants (and refused otherwise).
  static let folded: Set<String> = ["Cast", "ConstantOfShape", "Reshape", "Slice", "Transpose", "Unsqueeze"]
  /// The most elements a folded tensor may have.
  static let maxFolded = 1 << 16

  /// The current node's value, when every input is a constant and its op folds; nil when an
  /// input is a layer's output.
  func fold() throws(DiagnosticError) -> ONNXConstant? {
    guard Self.folded.contains(node.opType) || node.opType == "Concat" else { return nil }
    let present = node.input.filter { !$0.isEmpty }
    guard !present.isEmpty, present.allSatisfy({ constants[$0] != nil }) else { return nil }
    let a = ONNXAttributes(node)
    func ints(_ k: Int) throws(DiagnosticError) -> [Int]? {
      guard k < node.input.count, !node.input[k].isEmpty else { return nil }
      guard let v = constants[node.input[k]]?.integers else { throw unsupported(node: "has a non-integer input \(k + 1)") }
      return v
    }
    let x = constants[node.input[0]]!
    switch node.opType {
    case "ConstantOfShape":
      let shape = try ints(0) ?? []
      let count = try Self.count(shape, self)
      var fill = ONNXConstant(shape: [], floats: [0], integers: nil)
      if let t = a.tensor("value") {
        var f = file
        fill = try ONNXConstant(t, file: &f)
      }
      guard fill.floats.count == 1 else { throw unsupported(node: "has a value of \(fill.floats.count) elements; ONNX takes one") }
      return ONNXConstant(
        shape: shape, floats: [Float](repeating: fill.floats[0], count: count),
        integers: fill.integers.map { [Int](repeating: $0[0], count: count) })
    case "Concat":
      let parts = present.map { constants[$0]! }
      guard parts.allSatisfy({ $0.shape.count == 1 }), [0, -1].contains(a.int("axis") ?? 0) else {
        throw unsupported(node: "concatenates constants of shapes \(parts.map(\.shape).prefix(4)); netc folds vectors only")
      }
      let integers = parts.allSatisfy { $0.integers != nil } ? parts.flatMap { $0.integers! } : nil
      let floats = parts.flatMap(\.floats)
      _ = try Self.count([floats.count], self)
      return ONNXConstant(shape: [floats.count], floats: floats, integers: integers)
    case "Cast":
      let to = a.int("to") ?? 1
      let isFloat = [1, 10, 11, 16].contains(to)
      if isFloat { return ONNXConstant(shape: x.shape, floats: x.floats) }
      let integers = x.integers ?? x.floats.map { $0.isFinite && abs($0) < 9e15 ? Int($0.rounded(.towardZero)) : 0 }
      return ONNXConstant(shape: x.shape, floats: integers.map(Float.init), integers: integers)
    case "Reshape", "Unsqueeze":
      var shape: [Int]
      if node.opType == "Unsqueeze" {
        let r = x.shape.count
        let axes = try ints(1) ?? a.ints("axes") ?? []
        shape = x.shape
        for axis in axes.map({ $0 < 0 ? $0 + r + axes.count : $0 }).sorted() {
          guard axis >= 0, axis <= shape.count else { throw unsupported(node: "unsqueezes axis \(axis) of \(x.shape)") }
          shape.insert(1, at: axis)
        }
      } else {
        shape = try ints(1) ?? []
        for i in shape.indices where shape[i] == 0 && i < x.shape.count { shape[i] = x.shape[i] }
        if let free = shape.firstIndex(of: -1) {
          let known = try Self.count(shape.enumerated().filter { $0.offset != free }.map(\.element), self)
          guard known > 0, x.floats.count % known == 0 else { throw unsupported(node: "reshapes \(x.shape) to \(shape)") }
          shape[free] = x.floats.count / known
        }
      }
      guard try Self.count(shape, self) == x.floats.count else { throw unsupported(node: "reshapes \(x.shape) to \(shape)") }
      return ONNXConstant(shape: shape, floats: x.floats, integers: x.integers)
    case "Transpose":
      let r = x.shape.count
      let perm = a.ints("perm") ?? Array((0..<r).reversed())
      guard perm.sorted() == Array(0..<r) else { throw unsupported(node: "has perm \(perm.prefix(8)) for rank \(r)") }
      let shape = perm.map { x.shape[$0] }
      return gather(x, shape: shape) { index in perm.indices.reduce(into: [Int](repeating: 0, count: r)) { $0[perm[$1]] = index[$1] } }
    default:  // Slice
      let r = x.shape.count
      guard let starts = try ints(1), let ends = try ints(2), starts.count == ends.count else {
        throw unsupported(node: "has no constant starts and ends")
      }
      let axes = try ints(3) ?? Array(0..<starts.count), steps = try ints(4) ?? [Int](repeating: 1, count: starts.count)
      guard axes.count == starts.count, steps.count == starts.count, !steps.contains(0) else {
        throw unsupported(node: "has axes or steps that do not fit its starts")
      }
      var first = [Int](repeating: 0, count: r), step = [Int](repeating: 1, count: r), shape = x.shape
      for (k, axis0) in axes.enumerated() {
        let axis = axis0 < 0 ? axis0 + r : axis0
        guard axis >= 0, axis < r else { throw unsupported(node: "slices axis \(axis0) of rank \(r)") }
        // A step past the extent takes one element, as one of n + 1 does (and cannot overflow).
        let n = x.shape[axis], s = Swift.max(Swift.min(steps[k], n + 1), -(n + 1))
        func clamp(_ v: Int, _ lo: Int, _ hi: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + n : v, lo), hi) }
        let b = s > 0 ? clamp(starts[k], 0, n) : clamp(starts[k], -1, n - 1)
        let e = s > 0 ? clamp(ends[k], 0, n) : clamp(ends[k], -1, n - 1)
        let count = s > 0 ? Swift.max(0, (e - b + s - 1) / s) : Swift.max(0, (b - e - s - 1) / -s)
        (first[axis], step[axis], shape[axis]) = (b, s, count)
      }
      return gather(x, shape: shape) { index in index.indices.map { first[$0] + index[$0] * step[$0] } }
    }
  }

  /// A tensor of `shape` whose element at each index is `x`'s at `source(index)`.
  func gather(_ x: ONNXConstant, shape: [Int], _ source: ([Int]) -> [Int]) -> ONNXConstant {
    let count = shape.reduce(1, *)
    var strides = [Int](repeating: 1, count: x.shape.count)
    for i in stride(from: x.shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * x.shape[i + 1] }
    var floats: [Float] = [], integers: [Int] = []
    var index = [Int](repeating: 0, count: shape.count)
    for _ in 0..<count {
      let offset = zip(source(index), strides).reduce(0) { $0 + $1.0 * $1.1 }
      floats.append(x.floats[offset])
      if let v = x.integers { integers.append(v[offset]) }
      var axis = shape.count - 1
      while axis >= 0 {
        index[axis] += 1
        if index[axis] < shape[axis] { break }
        index[axis] = 0
        axis -= 1
      }
    }
    return ONNXConstant(shape: shape, floats: floats, integers: x.integers == nil ? nil : integers)
  }

  /// The element count of `shape`, bounded by `maxFolded`.
  static func count(_ shape: [Int], _ r: ONNXLayerRecognizer) throws(DiagnosticError) -> Int {
    var n = 1
    for d in shape {
      let (next, overflow) = n.multipliedReportingOverflow(by: d)
      guard d >= 0, !overflow, next <= maxFolded else {
        throw r.unsupported(node: "makes a constant of shape \(shape.prefix(8)), more than netc folds (\(maxFolded) elements)")
      }
      n = next
    }
    return n
  }
}
