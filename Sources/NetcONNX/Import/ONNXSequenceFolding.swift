import Foundation
import NetcDiagnostics

/// The shape arithmetic and mask building transformers' exports leave at a fixed length
/// (Shape, Gather, Range, comparisons, Where, Expand, Trilu ...), evaluated when the model
/// is read: what remains is the layers' dataflow. Every folded tensor is bounded by
/// `maxFolded`; a table's rows gathered by constant positions are kept with where they
/// came from (POSEMBED).
extension ONNXLayerRecognizer {
  /// The current node's value when it folds; nil when it reads a layer's output.
  mutating func foldSequence(_ a: ONNXAttributes) throws(DiagnosticError) -> ONNXConstant? {
    let op = node.opType
    if op == "Shape" { return try shapeOf(a) }
    let present = node.input.filter { !$0.isEmpty }
    guard !present.isEmpty, present.allSatisfy({ constants[$0] != nil }) else { return nil }
    // A weight's transpose (a tied head's) and its first rows (positions 0..<T) are as
    // large as the weight, which is already in memory: not bounded as shape arithmetic is.
    if op == "Transpose", let x = constants[node.input[0]], x.shape.count == 2, x.integers == nil, initializers.contains(node.input[0]) {
      let t = Self.transpose(x.tensor)
      return ONNXConstant(shape: t.shape, floats: t.data)
    }
    // The rows of a table `[n, C]`, or of a buffer `[1, n, C]` (the PyTorch tutorial's
    // `pe[:, :T]`), along the rows' axis.
    if op == "Slice", let x = constants[node.input[0]], x.shape.count == 2 || x.shape.count == 3 && x.shape[0] == 1, x.integers == nil,
      initializers.contains(node.input[0]), let starts = constants[node.input[1]]?.integers,
      let ends = node.input.count > 2 ? constants[node.input[2]]?.integers : nil, starts.count == 1, ends.count == 1,
      node.input.count < 4 && x.shape.count == 2
        || node.input.count >= 4 && (x.shape.count == 3 ? [[1], [-2]] : [[0], [-2]]).contains(constants[node.input[3]]?.integers ?? []),
      (node.input.count < 5 || constants[node.input[4]]?.integers == [1])
    {
      let n = x.shape[x.shape.count - 2], width = x.shape[x.shape.count - 1]
      let b = Swift.min(Swift.max(starts[0] < 0 ? starts[0] + n : starts[0], 0), n)
      let e = Swift.min(Swift.max(ends[0] < 0 ? ends[0] + n : ends[0], b), n)
      let table = ONNXConstant(shape: [n, width], floats: x.floats)
      tables[node.output[0]] = (table: table, rows: Array(b..<e), module: ModulePath.of(node, weight: node.input[0]))
      return ONNXConstant(shape: Array(x.shape.dropLast(2)) + [e - b, width], floats: Array(x.floats[(b * width)..<(e * width)]))
    }
    if Self.folded.contains(op) {
      let c = try fold()
      if op == "Cast", let t = tables[node.input[0]] { tables[node.output[0]] = t }
      return c
    }
    let xs = present.map { constants[$0]! }
    // Each op's inputs, all given (an empty name would shift the others into its place).
    let arity: [String: Int] = ["Gather": 2, "GatherElements": 2, "Expand": 2, "Range": 3, "Where": 3]
    if let n = arity[op], xs.count != n || node.input.count != n {
      throw unsupported(node: "has \(xs.count) of its \(n) inputs")
    }
    switch op {
    case "Gather":
      return try gatherConstant(xs[0], xs[1], axis: a.int("axis") ?? 0)
    case "GatherElements":
      return try gatherElements(xs[0], xs[1], axis: a.int("axis") ?? 0)
    case "Add", "Sub", "Mul", "Div", "Mod", "Pow", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or":
      guard xs.count == 2 else { return nil }
      return try broadcast(xs[0], xs[1], op)
    case "Where":
      guard xs.count == 3 else { return nil }
      return try select(xs[0], xs[1], xs[2])
    case "Concat":
      return try concatenate(xs, axis: a.int("axis") ?? 0)
    case "Cos", "Sin":
      return ONNXConstant(shape: xs[0].shape, floats: xs[0].floats.map { op == "Cos" ? Foundation.cos($0) : Foundation.sin($0) })
    case "Not", "Neg", "Sqrt", "IsNaN", "Reciprocal":
      let x = xs[0]
      let f: (Float) -> Float
      switch op {
      case "Not": f = { $0 == 0 ? 1 : 0 }
      case "Neg": f = { -$0 }
      case "Sqrt": f = { $0.squareRoot() }
      case "IsNaN": f = { $0.isNaN ? 1 : 0 }
      default: f = { 1 / $0 }
      }
      let floats = x.floats.map(f)
      // From the integers themselves: a Float of a huge one is no Int (converting it traps).
      let integers: [Int]? =
        op == "Not" || op == "IsNaN" ? floats.map { $0 == 0 ? 0 : 1 } : op == "Neg" ? x.integers?.map { 0 &- $0 } : nil
      return ONNXConstant(shape: x.shape, floats: floats, integers: integers)
    case "Expand":
      guard let target = xs[1].integers else { throw unsupported(node: "expands to a non-integer shape") }
      let ones = ONNXConstant(shape: target, floats: [], integers: nil)
      return try broadcast(xs[0], ones, "Expand")
    case "Flatten":
      let x = xs[0], r = x.shape.count
      let axis0 = a.int("axis") ?? 1, axis = axis0 < 0 ? axis0 + r : axis0
      guard axis >= 0, axis <= r else { throw unsupported(node: "flattens from axis \(axis0) of rank \(r)") }
      let lead = x.shape[..<axis].reduce(1, *)
      return ONNXConstant(shape: [lead, x.floats.count / Swift.max(lead, 1)], floats: x.floats, integers: x.integers)
    case "Squeeze":
      let x = xs[0], r = x.shape.count
      let axes = (xs.count > 1 ? xs[1].integers : a.ints("axes")) ?? x.shape.indices.filter { x.shape[$0] == 1 }
      let normal = Set(axes.map { $0 < 0 ? $0 + r : $0 })
      return ONNXConstant(
        shape: x.shape.indices.filter { !normal.contains($0) }.map { x.shape[$0] }, floats: x.floats, integers: x.integers)
    case "Range":
      guard let start = xs[0].integers?.first, let limit = xs[1].integers?.first, let delta = xs[2].integers?.first, delta != 0 else {
        throw unsupported(node: "has a range netc does not fold (integers with a nonzero step)")
      }
      // The file's numbers: a span that overflows is refused, not trapped.
      let (span, o1) = limit.subtractingReportingOverflow(start)
      let (padded, o2) = span.addingReportingOverflow(delta - (delta > 0 ? 1 : -1))
      guard !o1, !o2 else { throw unsupported(node: "has a range from \(start) to \(limit), beyond what netc folds") }
      let count = Swift.max(0, padded.dividedReportingOverflow(by: delta).partialValue)
      _ = try Self.count([count], self)
      let v = (0..<count).map { start + $0 * delta }
      return ONNXConstant(shape: [count], floats: v.map(Float.init), integers: v)
    case "Trilu":
      let x = xs[0], r = x.shape.count
      guard r >= 2 else { throw unsupported(node: "has an input of rank \(r)") }
      let k = xs.count > 1 ? (xs[1].integers?.first ?? 0) : 0
      let upper = (a.int("upper") ?? 1) != 0
      let (rows, cols) = (x.shape[r - 2], x.shape[r - 1])
      var f = x.floats, ints = x.integers
      for i in f.indices {
        let col = i % cols, row = (i / cols) % rows
        let keep = upper ? col - row >= k : col - row <= k
        if !keep {
          f[i] = 0
          ints?[i] = 0
        }
      }
      return ONNXConstant(shape: x.shape, floats: f, integers: ints)
    default:
      return nil
    }
  }

  /// Shape of a tensor whose extents are known: a layer's (the batch of 1 in front) or
  /// an attention step's.
  func shapeOf(_ a: ONNXAttributes) throws(DiagnosticError) -> ONNXConstant? {
    let name = node.input.first ?? ""
    var shape: [Int]
    if let c = constants[name] {
      shape = c.shape
    } else if let s = knownShapes[name] {
      shape = s
    } else if let v = values[name] {
      shape = [1] + layers[v].shape
      if timeMajor.contains(name) { shape.swapAt(0, 1) }
    } else if case .linear(let p)? = seq[name], layers[p.input].shape.count == 2 {
      shape = [1, layers[p.input].shape[0], p.units]
      if p.timeMajor { shape.swapAt(0, 1) }
    } else if case .normScaled(let x, _, _, _, _, _)? = seq[name] {
      // A norm's result before its β (Llama's RMSNorm, whose output Shape reads).
      shape = [1] + layers[x].shape
      if timeMajor.contains(name) { shape.swapAt(0, 1) }
    } else if let h = seq[name]?.rotaryHeads, h.groups == 1, h.repeats == 1 {
      // Heads, or heads part way through their rotary turn (Llama's Shape of its rotated q).
      let l = rows(h.proj)
      var d = h.dim
      switch seq[name] {
      case .rotary(_, .firstHalf)?, .rotary(_, .secondHalf)?, .rotary(_, .negatedSecond)?: d = h.dim / 2
      default: break
      }
      shape =
        !h.transposed
        ? [1, l, h.heads, d] : h.flat ? (h.keys ? [h.heads, d, l] : [h.heads, l, d]) : h.keys ? [1, h.heads, d, l] : [1, h.heads, l, d]
    } else if case .attention(let parts)? = seq[name], let wo = parts.wo {
      shape = [1, rows(parts.q), wo.shape[0]]
    } else if case .slice(let s)? = seq[name], layers[s.linear.input].shape.count == 2 {
      // One of a fused projection's q, k, v (GPT-2's key length read for its mask).
      shape = [1, layers[s.linear.input].shape[0], s.count]
      if s.linear.timeMajor { shape.swapAt(0, 1) }
    } else {
      throw unsupported(node: "takes the shape of `\(name.prefix(80))`, whose extents netc does not know here")
    }
    let r = shape.count
    func clamp(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + r : v, 0), r) }
    let start = clamp(a.int("start") ?? 0), end = clamp(a.int("end") ?? r)
    shape = start < end ? Array(shape[start..<end]) : []
    return ONNXConstant(shape: [shape.count], floats: shape.map(Float.init), integers: shape)
  }

  /// Rows of a constant table: a weight's rows by constant positions keep their origin.
  mutating func gatherConstant(_ data: ONNXConstant, _ index: ONNXConstant, axis: Int) throws(DiagnosticError) -> ONNXConstant {
    let r = data.shape.count
    let ax = axis < 0 ? axis + r : axis
    guard ax >= 0, ax < r, let idx0 = index.integers else {
      throw unsupported(node: "gathers along axis \(axis) of rank \(r) or by non-integers")
    }
    let n = data.shape[ax]
    let idx = idx0.map { $0 < 0 ? $0 + n : $0 }
    guard idx.allSatisfy({ $0 >= 0 && $0 < n }) else { throw unsupported(node: "gathers an index outside 0..<\(n)") }
    let outer = data.shape[..<ax].reduce(1, *), inner = data.shape[(ax + 1)...].reduce(1, *)
    let shape = Array(data.shape[..<ax]) + index.shape + Array(data.shape[(ax + 1)...])
    // A table's rows (a weight, bounded by its own size) may exceed what shape arithmetic folds.
    let isTable = ax == 0 && r == 2 && data.integers == nil
    if !isTable { _ = try Self.count(shape, self) }
    var floats: [Float] = [], ints: [Int] = []
    floats.reserveCapacity(outer * idx.count * inner)
    for o in 0..<outer {
      for i in idx {
        let base = (o * n + i) * inner
        floats.append(contentsOf: data.floats[base..<(base + inner)])
        if let v = data.integers { ints.append(contentsOf: v[base..<(base + inner)]) }
      }
    }
    if isTable && idx.count <= Self.maxFolded {
      tables[node.output[0]] = (table: data, rows: idx, module: ModulePath.of(node, weight: node.input[0]))
    }
    return ONNXConstant(shape: shape, floats: floats, integers: data.integers == nil ? nil : ints)
  }

  /// Concat of constants of any rank.
  func concatenate(_ parts: [ONNXConstant], axis: Int) throws(DiagnosticError) -> ONNXConstant {
    let r = parts[0].shape.count
    let ax = axis < 0 ? axis + r : axis
    guard r >= 1, ax >= 0, ax < r,
      parts.allSatisfy({ p in p.shape.count == r && p.shape.indices.allSatisfy { i in i == ax || p.shape[i] == parts[0].shape[i] } })
    else { throw unsupported(node: "concatenates constants of shapes \(parts.map(\.shape).prefix(4)) along axis \(axis)") }
    var shape = parts[0].shape
    shape[ax] = parts.reduce(0) { $0 + $1.shape[ax] }
    _ = try Self.count(shape, self)
    let outer = shape[..<ax].reduce(1, *), inner = shape[(ax + 1)...].reduce(1, *)
    let integral = parts.allSatisfy { $0.integers != nil }
    var floats: [Float] = [], ints: [Int] = []
    for o in 0..<outer {
      for p in parts {
        let n = p.shape[ax] * inner
        floats.append(contentsOf: p.floats[(o * n)..<((o + 1) * n)])
        if integral { ints.append(contentsOf: p.integers![(o * n)..<((o + 1) * n)]) }
      }
    }
    return ONNXConstant(shape: shape, floats: floats, integers: integral ? ints : nil)
  }

  /// `GatherElements` of constants: the index tensor's shape, each entry read along `axis`.
  func gatherElements(_ data: ONNXConstant, _ index: ONNXConstant, axis: Int) throws(DiagnosticError) -> ONNXConstant {
    let r = data.shape.count
    let ax = axis < 0 ? axis + r : axis
    guard ax >= 0, ax < r, index.shape.count == r, let idx = index.integers else {
      throw unsupported(node: "gathers along axis \(axis) of rank \(r)")
    }
    let count = try Self.count(index.shape, self)
    var dataStrides = [Int](repeating: 1, count: r)
    for i in stride(from: r - 2, through: 0, by: -1) { dataStrides[i] = dataStrides[i + 1] * data.shape[i + 1] }
    var floats: [Float] = [], ints: [Int] = []
    var pos = [Int](repeating: 0, count: r)
    for k in 0..<count {
      var v = idx[k]
      if v < 0 { v += data.shape[ax] }
      guard v >= 0, v < data.shape[ax] else { throw unsupported(node: "gathers index \(idx[k]) outside 0..<\(data.shape[ax])") }
      var offset = 0
      for i in 0..<r {
        let p = i == ax ? v : pos[i]
        guard p < data.shape[i] else { throw unsupported(node: "gathers outside the data's shape \(data.shape)") }
        offset += p * dataStrides[i]
      }
      floats.append(data.floats[offset])
      if let d = data.integers { ints.append(d[offset]) }
      var i = r - 1
      while i >= 0 {
        pos[i] += 1
        if pos[i] < index.shape[i] { break }
        pos[i] = 0
        i -= 1
      }
    }
    return ONNXConstant(shape: index.shape, floats: floats, integers: data.integers == nil ? nil : ints)
  }

  /// ONNX's multidirectional broadcast of two constants (`Expand` takes the second's shape only).
  func broadcast(_ x: ONNXConstant, _ y: ONNXConstant, _ op: String) throws(DiagnosticError) -> ONNXConstant {
    let r = Swift.max(x.shape.count, y.shape.count)
    let xs = [Int](repeating: 1, count: r - x.shape.count) + x.shape, ys = [Int](repeating: 1, count: r - y.shape.count) + y.shape
    var shape: [Int] = []
    for i in 0..<r {
      guard xs[i] == ys[i] || xs[i] == 1 || ys[i] == 1 else {
        throw unsupported(node: "broadcasts \(x.shape) with \(y.shape), which do not fit")
      }
      shape.append(xs[i] == 1 ? ys[i] : xs[i])
    }
    let count = try Self.count(shape, self)
    func strides(_ s: [Int]) -> [Int] {
      var st = [Int](repeating: 0, count: r), acc = 1
      for i in stride(from: r - 1, through: 0, by: -1) {
        st[i] = s[i] == 1 ? 0 : acc
        acc *= s[i]
      }
      return st
    }
    let sx = strides(xs), sy = strides(ys)
    let integral = x.integers != nil && (op == "Expand" || y.integers != nil)
    let logical = ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or"].contains(op)
    var floats = [Float](repeating: 0, count: count), ints = [Int](repeating: 0, count: count)
    var index = [Int](repeating: 0, count: r)
    for k in 0..<count {
      var ix = 0, iy = 0
      for i in 0..<r {
        ix += index[i] * sx[i]
        iy += index[i] * sy[i]
      }
      let a = x.floats[ix]
      if op == "Expand" {
        floats[k] = a
        if let v = x.integers { ints[k] = v[ix] }
      } else if integral, let xi = x.integers?[ix], let yi = y.integers?[iy], !logical {
        var v = 0
        switch op {
        case "Add": v = xi &+ yi
        case "Sub": v = xi &- yi
        case "Mul": v = xi &* yi
        // Int.min / -1 overflows: the file's numbers, so reported, not trapped.
        case "Div": v = yi == 0 ? 0 : xi.dividedReportingOverflow(by: yi).partialValue
        // ONNX's Mod of integers takes the divisor's sign, as Python's %.
        case "Mod":
          let r = yi == 0 ? 0 : xi.remainderReportingOverflow(dividingBy: yi).partialValue
          v = r != 0 && (r < 0) != (yi < 0) ? r &+ yi : r
        default: v = Int(pow(Double(xi), Double(yi)).clamped)
        }
        ints[k] = v
        floats[k] = Float(v)
      } else {
        let b = y.floats[iy]
        var f: Float
        switch op {
        case "Add": f = a + b
        case "Sub": f = a - b
        case "Mul": f = a * b
        case "Div": f = a / b
        case "Mod":
          // fmod 1: C's fmod (the dividend's sign); 0, the default, the divisor's.
          let r = b == 0 ? 0 : a.truncatingRemainder(dividingBy: b)
          f = ONNXAttributes(node).int("fmod") == 1 || r == 0 || (r < 0) == (b < 0) ? r : r + b
        case "Pow": f = Float(pow(Double(a), Double(b)))
        case "Equal": f = a == b ? 1 : 0
        case "Less": f = a < b ? 1 : 0
        case "LessOrEqual": f = a <= b ? 1 : 0
        case "Greater": f = a > b ? 1 : 0
        case "GreaterOrEqual": f = a >= b ? 1 : 0
        case "And": f = a != 0 && b != 0 ? 1 : 0
        default: f = a != 0 || b != 0 ? 1 : 0
        }
        floats[k] = f
        // Kept only for a comparison, whose results are 0 and 1 (a huge f is no Int).
        ints[k] = logical && f != 0 ? 1 : 0
      }
      var axis = r - 1
      while axis >= 0 {
        index[axis] += 1
        if index[axis] < shape[axis] { break }
        index[axis] = 0
        axis -= 1
      }
    }
    return ONNXConstant(shape: shape, floats: floats, integers: integral || logical ? ints : nil)
  }

  /// `Where(c, x, y)` of constants.
  func select(_ c: ONNXConstant, _ x: ONNXConstant, _ y: ONNXConstant) throws(DiagnosticError) -> ONNXConstant {
    let cx = try broadcast(c, x, "Mul")
    let shape = try broadcast(cx, y, "Mul").shape
    let cc = try broadcast(c, ONNXConstant(shape: shape, floats: []), "Expand")
    let xx = try broadcast(x, ONNXConstant(shape: shape, floats: []), "Expand")
    let yy = try broadcast(y, ONNXConstant(shape: shape, floats: []), "Expand")
    let floats = cc.floats.indices.map { cc.floats[$0] != 0 ? xx.floats[$0] : yy.floats[$0] }
    var ints: [Int]?
    if let a = xx.integers, let b = yy.integers { ints = cc.floats.indices.map { cc.floats[$0] != 0 ? a[$0] : b[$0] } }
    return ONNXConstant(shape: shape, floats: floats, integers: ints)
  }
}

extension Double {
  /// Within Int's range (a folded Pow of integers).
  fileprivate var clamped: Double { isFinite ? Swift.min(Swift.max(self, -9e15), 9e15) : 0 }
}
