import NetcBackends
import NetcDiagnostics
import NetcIR

/// Attention as exporters write it: the projections (one fused `c_attn` split in three, or
/// three), heads split by Reshape and Transpose, `softmax(q kᵀ · scale + mask) v`, heads
/// merged, the output projection. The scale must be 1/sqrt(D) and the mask none or the
/// causal one (checked value by value), as netc's ATTN computes.
extension ONNXLayerRecognizer {
  /// Gemm or MatMul: a projection of a layer by a constant weight (pending: attention's
  /// or a LINEAR), or one of attention's two products.
  mutating func product(_ a: ONNXAttributes) throws(DiagnosticError) {
    let out = node.output[0]
    guard node.input.count >= 2 else { throw unsupported(node: "has \(node.input.count) input; netc's products take two") }
    if node.opType == "MatMul", let p0 = seq[node.input[0]], let p1 = seq[node.input[1]] {
      switch (p0, p1) {
      case (.heads(let q), .heads(let k)) where q.transposed && !q.keys && k.keys && q.dim == k.dim && k.groups == 1 && !q.flat && !k.flat:
        guard q.theta == k.theta else {
          throw unsupported(node: "multiplies queries and keys turned by different rotary positions; netc's rope turns both alike")
        }
        guard q.groups == 1 ? k.heads * k.repeats == q.heads : k.heads * q.groups == q.heads && k.repeats == 1 else {
          throw unsupported(node: "multiplies \(q.heads) query heads by \(k.heads * k.repeats) key heads, which do not group")
        }
        var parts = AttentionParts(q: q.proj, k: k.proj, v: nil, heads: q.heads, kvHeads: k.heads, headDim: q.dim, scale: q.scale * k.scale)
        parts.theta = q.theta
        parts.repeats = k.repeats
        seq[out] = .scores(parts)
        let (t, s) = (rows(q.proj), rows(k.proj))
        knownShapes[out] = q.groups == 1 ? [1, q.heads, t, s] : [1, k.heads, q.groups, t, s]
      case (.probs(var parts), .heads(let v))
      where v.transposed && !v.keys && !v.flat && v.dim == parts.headDim && v.scale == 1 && v.theta == nil && v.repeats == parts.repeats:
        parts.v = v.proj
        seq[out] = .context(parts)
      default:
        throw unsupported(node: "multiplies two computed tensors that are not attention's q kᵀ or its probabilities by v")
      }
      return
    }
    guard let w = constants[node.input.count > 1 ? node.input[1] : ""], w.shape.count == 2 else {
      throw unsupported(node: "multiplies by a computed tensor; netc imports a MatMul or Gemm by a constant 2-D weight (LINEAR)")
    }
    var weight = w.tensor
    var bias: [Float]?
    if node.opType == "Gemm" {
      guard (a.float("alpha") ?? 1) == 1, (a.float("beta") ?? 1) == 1, (a.int("transA") ?? 0) == 0 else {
        throw unsupported(node: "has alpha, beta or transA other than 1, 1, 0; netc's LINEAR is x Wᵀ + b")
      }
      if (a.int("transB") ?? 0) == 0 { weight = Self.transpose(weight) }
      bias = try constantInput(2)?.floats
      if let b = bias, b.count != weight.shape[0] {
        throw unsupported(node: "has a bias of \(b.count) values for \(weight.shape[0]) units")
      }
    } else {
      weight = Self.transpose(weight)
    }
    if case .merged(var parts)? = seq[node.input[0]] {
      guard weight.shape[1] == parts.heads * parts.headDim else {
        throw unsupported(node: "projects \(weight.shape[1]) inputs from \(parts.heads * parts.headDim) merged heads")
      }
      parts.wo = weight
      parts.bo = bias
      seq[out] = .attention(parts)
      // The merged heads' rank: `[1, T, C]`, or `[T, C]` (MultiheadAttention's Gemm).
      if let m = knownShapes[node.input[0]] { knownShapes[out] = m.dropLast() + [weight.shape[0]] }
      return
    }
    let x = try layerInput(0)
    guard layers[x].shape.last == weight.shape[1] else {
      throw unsupported(node: "has a weight of \(w.shape) for inputs of width \(layers[x].shape.last ?? 0)")
    }
    seq[out] = .linear(
      PendingLinear(
        key: out, input: x, weight: weight, bias: bias, nodeName: node.name, modulePath: ModulePath.of(node, weight: node.input[1]),
        nodeModulePath: ModulePath.of(node, weight: nil), opType: node.opType, timeMajor: timeMajor.contains(node.input[0])))
  }

  /// Split of a fused projection along its outputs: Q, K and V.
  mutating func split(_ a: ONNXAttributes) throws(DiagnosticError) {
    if let c = constants[node.input[0]] { return try splitConstant(c, a) }
    guard case .linear(let p)? = seq[node.input[0]] else {
      throw unsupported(node: "splits a tensor that is not a projection; netc imports Split only of attention's fused q, k, v")
    }
    let axis = a.int("axis") ?? 0
    guard axis == -1 || axis == 2 || axis == 1 else {
      throw unsupported(node: "splits along axis \(axis); netc splits a projection's outputs (the last axis)")
    }
    let sizes =
      try constantInput(1)?.integers ?? a.ints("split")
      ?? [Int](repeating: p.units / Swift.max(node.output.count, 1), count: node.output.count)
    // Sizes checked before they are summed: the file's numbers could overflow the sum.
    guard sizes.count == node.output.count, sizes.allSatisfy({ $0 > 0 && $0 <= p.units }), sizes.count <= p.units,
      sizes.reduce(0, +) == p.units
    else {
      throw unsupported(node: "splits \(p.units) outputs as \(sizes.prefix(8))")
    }
    var offset = 0
    for (o, s) in zip(node.output, sizes) {
      seq[o] = .slice(Projection(linear: p, offset: offset, count: s))
      offset += s
    }
  }

  /// Split of a constant (torch's MultiheadAttention splits its packed weight into the
  /// queries' and the keys' and values' for a cross-attention): one constant per output.
  mutating func splitConstant(_ c: ONNXConstant, _ a: ONNXAttributes) throws(DiagnosticError) {
    let r = c.shape.count
    let axis0 = a.int("axis") ?? 0
    guard r >= 1, axis0 >= -r, axis0 < r, !node.output.isEmpty else { throw unsupported(node: "splits a constant along axis \(axis0)") }
    let axis = axis0 < 0 ? axis0 + r : axis0
    let n = c.shape[axis], parts = node.output.count
    let sizes = try constantInput(1)?.integers ?? a.ints("split") ?? (n % parts == 0 ? [Int](repeating: n / parts, count: parts) : [])
    // Each size at most n, so that their sum (at most 64 sizes of the file's) cannot wrap.
    guard sizes.count == parts, parts <= 64, sizes.allSatisfy({ $0 >= 0 && $0 <= n }), sizes.reduce(0, +) == n else {
      throw unsupported(node: "splits \(n) entries of a constant as \(sizes.prefix(8))")
    }
    let outer = c.shape[..<axis].reduce(1, *), inner = c.shape[(axis + 1)...].reduce(1, *)
    var start = 0
    for (o, size) in zip(node.output, sizes) {
      var floats: [Float] = [], ints: [Int] = []
      for b in 0..<outer {
        let base = (b * n + start) * inner
        floats.append(contentsOf: c.floats[base..<(base + size * inner)])
        if let v = c.integers { ints.append(contentsOf: v[base..<(base + size * inner)]) }
      }
      var shape = c.shape
      shape[axis] = size
      if !o.isEmpty { constants[o] = ONNXConstant(shape: shape, floats: floats, integers: c.integers == nil ? nil : ints) }
      start += size
    }
  }

  /// Reshape of a layer to its own data (a batch axis or `[-1, C]`), a projection to
  /// heads, merged heads back, or shape-only Flatten/Squeeze/Unsqueeze of the same kinds.
  mutating func sequenceReshape() throws(DiagnosticError) {
    let name = node.input[0], out = node.output[0]
    let target = node.opType == "Reshape" ? try constantInput(1)?.integers : nil
    // The target's last extents: 0 copies, -1 infers (a batch of 1).
    func lastTwo() -> (Int, Int)? {
      guard let t = target, t.count >= 2 else { return nil }
      return (t[t.count - 2], t[t.count - 1])
    }
    if let p = seq[name] {
      switch p {
      case .linear, .attention, .normScaled:
        // A reshape that keeps the last axis whole ([1, T, C] to [T, C]); a 4-D target is a
        // split into heads even when one head is all of it (multi-query attention's K and V).
        if let t = target, t.count <= 3 && t.last == units(of: p) || t.count == 1 && t[0] == -1 {
          seq[out] = p
          return
        }
        if case .linear(let l) = p {
          if node.opType == "Reshape" && unflattenParts(l, target) { return }
          return try toHeads(Projection(linear: l, offset: 0, count: l.units), target)
        }
      case .packed(let l, let parts, let stage):
        if packedStep(l, parts: parts, stage: stage, axes: squeezeAxes(), perm: nil) { return }
      case .slice(let proj):
        return try toHeads(proj, target)
      case .heads(var h) where !h.transposed && h.groups == 1:
        // Grouped-query attention's queries: [1, T, Kv, G, D].
        if let t = target, t.count == 5, [0, 1].contains(t[0]), [0, rows(h.proj)].contains(t[1]), t[2] > 0, t[3] > 0,
          Self.times(t[2], t[3]) == h.heads,
          t[4] == h.dim
        {
          h.groups = t[3]
          seq[out] = .heads(h)
          return
        }
      case .heads(let h) where node.opType == "Unsqueeze" && h.transposed:
        // Keys and values shared by a group of query heads: an axis MatMul broadcasts.
        seq[out] = .heads(h)
        return
      case .heads(var h) where node.opType == "Reshape" && h.transposed && h.groups == 1 && h.repeats == 1:
        // torch's SDPA decomposition transposes the keys in 3-D: [1, H, T, D] to [H, T, D],
        // Transpose [0, 2, 1], back to [1, H, D, T].
        let rows = h.keys ? h.dim : self.rows(h.proj), cols = h.keys ? self.rows(h.proj) : h.dim
        if !h.flat, let t = target, t.count == 3, [-1, h.heads].contains(t[0]), t[1] == rows, t[2] == cols {
          h.flat = true
          seq[out] = .heads(h)
          return
        }
        if h.flat, let t = target, t.count == 4, [1, -1].contains(t[0]), t[1] == h.heads, [rows, -1].contains(t[2]),
          [cols, -1].contains(t[3]), t.filter({ $0 == -1 }).count <= 1
        {
          h.flat = false
          seq[out] = .heads(h)
          knownShapes[out] = [1, h.heads, rows, cols]
          return
        }
      case .heads(let h) where node.opType == "Reshape" && h.transposed && !h.keys && h.repeats > 1:
        // repeat_kv's last step: [1, Kv, G, T, D] to [1, Kv·G, T, D].
        let want = [1, h.heads * h.repeats, rows(h.proj), h.dim]
        if let t = target, t.count == 4, t.filter({ $0 == -1 }).count <= 1, zip(t, want).allSatisfy({ $0 == $1 || $0 == -1 || $0 == 0 }) {
          seq[out] = .heads(h)
          return
        }
      case .contextT(let parts):
        // [1, T, H*D], or [T, H*D] (the dynamo exporter merges the batch of 1 away too).
        guard let t = target, t.count == 3 || t.count == 2, [parts.heads * parts.headDim, -1].contains(t[t.count - 1]) else {
          throw unsupported(node: "reshapes attention's heads to \(target ?? []); netc merges them to [1, T, H*D]")
        }
        seq[out] = .merged(parts)
        let merged = [rows(parts.q), parts.heads * parts.headDim]
        knownShapes[out] = t.count == 3 ? (t[0] == rows(parts.q) ? [merged[0], 1, merged[1]] : [1] + merged) : merged
        return
      case .merged:
        seq[out] = p
        return
      case .context(let parts):
        // torch's SDPA reshapes its result to the shape it has.
        let want = [1, parts.heads, rows(parts.q), parts.headDim]
        if let t = target, t.count == 4, t.filter({ $0 == -1 }).count <= 1, zip(t, want).allSatisfy({ $0 == $1 || $0 == -1 || $0 == 0 }) {
          seq[out] = p
          return
        }
      default: break
      }
      throw unsupported(node: "reshapes `\(name.prefix(80))`, a step of a pattern, to \(target ?? []); netc imports it only whole")
    }
    let x = try layer(of: name)
    let shape = layers[x].shape
    if node.opType != "Reshape" {
      values[out] = x
      return
    }
    guard let t = target else { throw unsupported(node: "has no constant target shape") }
    let count = try Self.product(shape, path: path)
    let known = t.filter { $0 > 0 }.reduce(1, { $0 &* $1 })
    let ok = t.last == shape.last || (t.last == -1 && shape.count == 1) || (shape.count == 1 && known == count)
    guard ok, t.allSatisfy({ $0 >= -1 }), known > 0, count % known == 0 else {
      throw unsupported(
        node: "reshapes \(shape) to \(t); netc imports a Reshape of a sequence only as the same tokens (a batch axis added or taken)")
    }
    _ = lastTwo()
    values[out] = x
  }

  func units(of p: SequencePartial) -> Int? {
    switch p {
    case .linear(let l): l.units
    case .attention(let parts): parts.wo?.shape[0]
    case .normScaled(_, _, let g, _, _, _): g.count
    default: nil
    }
  }

  /// Transpose `[1, 0, 2]` of a sequence `[1, T, C]` (or of a projection, attention or norm
  /// on the way) to time-major `[T, 1, C]`, or back: the same data at a batch of one.
  mutating func timeMajorAlias(_ out: String) -> Bool {
    let name = node.input[0]
    switch seq[name] {
    case .linear(var p)?:
      p.timeMajor.toggle()
      seq[out] = .linear(p)
      return true
    case .attention?, .normScaled?:
      seq[out] = seq[name]
      return true
    case nil:
      guard let x = values[name], !isTokenInput(x), layers[x].shape.count == 2 else { return false }
      values[out] = x
      if !timeMajor.contains(name) { timeMajor.insert(out) }
      return true
    default:
      return false
    }
  }

  /// The sequence length of the tensor a projection reads (an encoder-decoder's inputs
  /// may differ in length).
  func rows(_ p: Projection) -> Int { layers[p.linear.input].shape.first ?? length }

  /// `a * b`, or nil when it overflows (a Reshape's extents come from the file).
  static func times(_ a: Int, _ b: Int) -> Int? {
    let (p, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? nil : p
  }

  mutating func toHeads(_ proj: Projection, _ target: [Int]?) throws(DiagnosticError) {
    // Time-major `[T, N*H, D]` at a batch of one (torch's MultiheadAttention) is `[1, T, H, D]`'s data.
    let target = target.map { $0.count == 3 && [0, rows(proj), -1].contains($0[0]) ? [1] + $0 : $0 }
    guard let t = target, t.count == 4, [0, 1, -1].contains(t[0]), [0, rows(proj), -1].contains(t[1]) else {
      var why = ""
      if let t = target, t.count == 3 || t.count == 4, case let n = t[t.count - 3], n > 0,
        layers.contains(where: { $0.op == .input && !$0.options.isEmpty })
      {
        // torch's MultiheadAttention traced with dynamic axes writes the example's length as a number.
        why =
          ", a length of \(n) for a tensor folded at \(rows(proj)) positions: the exporter fixed a length the graph declares symbolic (ONNX Runtime runs it at that length only); export it without dynamic axes"
      }
      throw unsupported(node: "reshapes a projection to \(target ?? []); netc imports [1, T, heads, dim] (attention's heads)\(why)")
    }
    var (h, d) = (t[2], t[3])
    if h == -1, d > 0, proj.count % d == 0 { h = proj.count / d }
    if d == -1, h > 0, proj.count % h == 0 { d = proj.count / h }
    guard h > 0, d > 0, Self.times(h, d) == proj.count else {
      throw unsupported(node: "splits \(proj.count) outputs into \(t[2]) heads of \(t[3])")
    }
    seq[node.output[0]] = .heads(Heads(proj: proj, heads: h, dim: d))
    knownShapes[node.output[0]] = [1, rows(proj), h, d]
  }

  /// Expand: transformers' `repeat_kv`, a key/value head per query head of its group
  /// (`[1, Kv, 1, T, D]` to `[1, Kv, G, T, D]`).
  mutating func sequenceExpand() throws(DiagnosticError) {
    guard case .heads(var h)? = seq[node.input[0]], h.transposed, !h.keys, h.repeats == 1, h.groups == 1,
      let t = try constantInput(1)?.integers, t.count == 5, t[0] == 1, t[1] == h.heads, t[2] > 1, Self.times(t[2], h.heads) != nil,
      t[3] == rows(h.proj), t[4] == h.dim
    else {
      throw unsupported(node: "expands a tensor other than attention's key or value heads into groups ([1, Kv, G, T, D])")
    }
    h.repeats = t[2]
    seq[node.output[0]] = .heads(h)
  }

  mutating func sequenceTranspose(_ a: ONNXAttributes) throws(DiagnosticError) {
    let perm = a.ints("perm") ?? []
    let out = node.output[0]
    if perm == [1, 0, 2] && timeMajorAlias(out) { return }
    switch seq[node.input[0]] {
    case .packed(let l, let parts, let stage)? where packedStep(l, parts: parts, stage: stage, axes: nil, perm: perm):
      return
    case .heads(var h)? where !h.transposed && h.groups == 1 && perm == [1, 0, 2]:
      // `[T, H, D]` to `[H, T, D]`: the flat heads (a batch of one merged with them).
      h.transposed = true
      h.flat = true
      knownShapes[out] = [h.heads, rows(h.proj), h.dim]
      seq[out] = .heads(h)
    case .heads(var h)? where !h.transposed && h.groups == 1 && (perm == [0, 2, 1, 3] || perm == [0, 2, 3, 1]):
      h.transposed = true
      h.keys = perm == [0, 2, 3, 1]
      knownShapes[out] = h.keys ? [1, h.heads, h.dim, rows(h.proj)] : [1, h.heads, rows(h.proj), h.dim]
      seq[out] = .heads(h)
    case .heads(var h)? where !h.transposed && h.groups > 1 && perm == [0, 2, 3, 1, 4]:
      h.transposed = true
      seq[out] = .heads(h)
    case .heads(var h)? where h.flat && perm == [0, 2, 1]:
      h.keys.toggle()
      seq[out] = .heads(h)
    case .heads(var h)? where h.transposed && !h.flat && h.groups == 1 && perm == [0, 1, 3, 2]:
      h.keys.toggle()
      seq[out] = .heads(h)
    case .context(let parts)? where (perm == [0, 2, 1, 3] || perm == [2, 0, 1, 3]) && (parts.heads == parts.kvHeads || parts.repeats > 1):
      seq[out] = .contextT(parts)
      knownShapes[out] =
        perm == [0, 2, 1, 3] ? [1, rows(parts.q), parts.heads, parts.headDim] : [rows(parts.q), 1, parts.heads, parts.headDim]
    case .context(let parts)? where perm == [0, 3, 1, 2, 4] && parts.heads != parts.kvHeads:
      seq[out] = .contextT(parts)
    default:
      throw unsupported(
        node: "transposes with perm \(perm.prefix(6)) outside attention's heads; netc imports Transpose only there and of constants")
    }
  }

  mutating func sequenceSoftmax(_ a: ONNXAttributes) throws(DiagnosticError) {
    let axis = a.int("axis") ?? -1
    if case .scores(var parts)? = seq[node.input[0]] {
      guard axis == -1 || axis == 3 else {
        throw unsupported(node: "is over axis \(axis) of attention's scores; netc's is over the keys (the last)")
      }
      let want = 1 / Float(parts.headDim).squareRoot()
      guard abs(parts.scale - want) <= 1e-5 * want else {
        throw unsupported(node: "reads scores scaled by \(parts.scale); netc's ATTN scales by 1/sqrt(\(parts.headDim)) = \(want)")
      }
      parts.softmaxNode = node.name
      parts.modulePath = ModulePath.of(node, weight: nil)
      seq[node.output[0]] = .probs(parts)
      return
    }
    let x = try layerInput(0)
    guard axis == -1 || axis == layers[x].shape.count else {
      throw unsupported(node: "is over axis \(axis); netc's SOFTMAX is over the last axis")
    }
    append(.softmax, "SOFTMAX", [x], layers[x].shape)
  }

  /// A scalar factor on the scores or on Q or K before their product.
  mutating func scaleStep() -> Bool {
    guard node.opType == "Mul" || node.opType == "Div", node.input.count == 2 else { return false }
    for (v, c) in [(0, 1), (1, 0)] where node.opType == "Mul" || v == 0 {
      guard let s0 = constants[node.input[c]]?.scalar, s0.isFinite, s0 != 0 else { continue }
      let s = node.opType == "Div" ? 1 / s0 : s0
      switch seq[node.input[v]] {
      case .scores(var parts)?:
        parts.scale *= s
        seq[node.output[0]] = .scores(parts)
        knownShapes[node.output[0]] = knownShapes[node.input[v]]
        return true
      case .heads(var h)?:
        h.scale *= s
        seq[node.output[0]] = .heads(h)
        return true
      default: continue
      }
    }
    return false
  }

  /// An additive mask on the scores: none (zeros) or the causal one.
  mutating func maskStep() throws(DiagnosticError) -> Bool {
    guard node.opType == "Add", node.input.count == 2 else { return false }
    for (v, c) in [(0, 1), (1, 0)] {
      guard case .scores(var parts)? = seq[node.input[v]], let m = constants[node.input[c]] else { continue }
      let causal = try maskKind(m, parts) { value, visible in visible ? value == 0 : value <= -1e4 }
      if causal == nil {
        guard m.floats.allSatisfy({ $0 == 0 }) else {
          throw unsupported(node: "adds a mask to attention's scores that is neither causal nor zero; netc's ATTN takes no other mask")
        }
      }
      parts.causal = parts.causal || causal == true
      seq[node.output[0]] = .scores(parts)
      knownShapes[node.output[0]] = knownShapes[node.input[v]]
      return true
    }
    return false
  }

  /// Where(mask, scores, -inf) or Where(mask, fill, scores): a boolean mask.
  mutating func maskedScores() throws(DiagnosticError) {
    if node.input.count == 3, case .probsNaN(let parts)? = seq[node.input[0]], case .probs(let same)? = seq[node.input[2]],
      same.softmaxNode == parts.softmaxNode, constants[node.input[1]]?.scalar == 0
    {
      seq[node.output[0]] = .probs(parts)
      knownShapes[node.output[0]] = knownShapes[node.input[2]]
      return
    }
    guard node.input.count == 3, let cond = constants[node.input[0]] else {
      throw unsupported(node: "selects by a computed condition; netc imports Where of constants, or attention's mask")
    }
    for (v, f, keepTrue) in [(1, 2, true), (2, 1, false)] {
      guard case .scores(var parts)? = seq[node.input[v]], let fill = constants[node.input[f]]?.scalar, fill <= -1e4 else { continue }
      let c = keepTrue ? cond : ONNXConstant(shape: cond.shape, floats: cond.floats.map { $0 == 0 ? 1 : 0 })
      let causal = try maskKind(c, parts) { value, visible in (value != 0) == visible }
      if causal == nil && !c.floats.allSatisfy({ $0 != 0 }) {
        throw unsupported(node: "masks attention's scores with a mask that is neither causal nor empty; netc's ATTN takes no other mask")
      }
      parts.causal = parts.causal || causal == true
      seq[node.output[0]] = .scores(parts)
      knownShapes[node.output[0]] = knownShapes[node.input[v]]
      return
    }
    throw unsupported(node: "selects between tensors; netc imports Where of constants, or attention's mask")
  }

  /// Whether `m` (broadcast to `[..., T, S]`, the queries' and the keys' lengths) is the
  /// causal mask: true when every entry fits `test(value, visible)` with visible = key <=
  /// query; nil when it is not.
  func maskKind(_ m: ONNXConstant, _ parts: AttentionParts, _ test: (Float, Bool) -> Bool) throws(DiagnosticError) -> Bool? {
    let r = m.shape.count
    guard r >= 2 else { return nil }
    let (rows, cols) = (m.shape[r - 2], m.shape[r - 1])
    let (t, s) = (self.rows(parts.q), self.rows(parts.k))
    guard rows == t, cols == s else {
      if m.floats.allSatisfy({ $0 == 0 }) { return nil }
      throw unsupported(node: "masks with a tensor of shape \(m.shape); netc expects \(t) x \(s) for the scores")
    }
    for i in m.floats.indices {
      let col = i % cols, row = (i / cols) % rows
      if !test(m.floats[i], col <= row) { return nil }
    }
    return true
  }

  /// The ATTN of a finished pattern, the value named `output` (an input of the node that
  /// reads it, not always its first: transformers' Llama adds the residual first).
  mutating func materialize(_ parts: AttentionParts, output: String) throws(DiagnosticError) -> Int {
    guard let v = parts.v, let wo = parts.wo else { throw unsupported(node: "reads an unfinished attention") }
    let key = parts.softmaxNode
    if let id = built[key] { return id }
    let x = parts.q.linear.input
    // Keys and values of another layer than the queries' are a cross-attention (`cross L`).
    let memory = parts.k.linear.input
    guard v.linear.input == memory else {
      throw unsupported(
        node:
          "reads attention whose keys and values come from different tensors; netc's ATTN reads both from its input or from one layer (`cross`)"
      )
    }
    guard memory == x || !isInput(memory) else {
      throw unsupported(node: "reads attention whose keys and values are token ids; netc's `cross` reads a layer's output")
    }
    let projections = [parts.q, parts.k, v]
    // Biases on some projections only: torch's dynamo exporter drops a bias that is all
    // zeros (torch.nn.MultiheadAttention's are, until trained), which is the same as keeping
    // it; the ATTN has all four, the missing ones zeros, as PyTorch counts them.
    let biased = projections.contains { $0.linear.bias != nil } || parts.bo != nil
    let c = layers[x].shape.last ?? 0
    guard parts.heads % parts.kvHeads == 0, parts.k.count == parts.kvHeads * parts.headDim, v.count == parts.k.count,
      parts.q.count == parts.heads * parts.headDim, wo.shape[1] == parts.q.count
    else { throw unsupported(node: "reads attention of mismatched heads (\(parts.heads) query, \(parts.kvHeads) key/value)") }
    var options: [String] = []
    if parts.kvHeads != parts.heads { options.append("kv \(parts.kvHeads)") }
    if parts.headDim * parts.heads != c { options.append("dim \(parts.headDim)") }
    if !biased { options.append("nobias") }
    if parts.causal { options.append("causal") }
    if memory != x {
      guard parts.theta == nil else {
        throw unsupported(node: "reads a cross-attention turned by rotary positions; netc's `rope` turns self-attention only")
      }
    }
    if let theta = parts.theta {
      options.append("rope")
      if theta != 10_000 { options.append("theta \(Self.number(theta))") }
    }
    var shape = layers[x].shape
    shape[shape.count - 1] = wo.shape[0]
    let id = append(
      .attention, "ATTN-\(parts.heads)", [x], shape, options: options, module: parts.modulePath, nodeName: parts.softmaxNode,
      outputName: output, opType: "Softmax")
    func rows(_ p: Projection) -> (Tensor<Float>, [Float]?) {
      let w = p.linear.weight, cols = w.shape[1]
      let data = Array(w.data[(p.offset * cols)..<((p.offset + p.count) * cols)])
      let bias = p.linear.bias.map { Array($0[p.offset..<(p.offset + p.count)]) } ?? [Float](repeating: 0, count: p.count)
      return (Tensor(shape: [p.count, cols], data: data), biased ? bias : nil)
    }
    var params: [(ParameterKind, Tensor<Float>)] = []
    for (p, (wk, bk)) in zip(projections, [(ParameterKind.wq, ParameterKind.bq), (.wk, .bk), (.wv, .bv)]) {
      let (w, b) = rows(p)
      params.append((wk, w))
      if let b { params.append((bk, Tensor(shape: [b.count], data: b))) }
    }
    params.append((.wo, wo))
    if biased { params.append((.bo, Tensor(shape: [wo.shape[0]], data: parts.bo ?? [Float](repeating: 0, count: wo.shape[0])))) }
    // netc's order: wq bq wk bk wv bv wo bo.
    layers[id].parameters = params
    if memory != x { layers[id].cross = memory }
    built[key] = id
    return id
  }
}
