import NetcBackends
import NetcDiagnostics
import NetcIR

/// The transformer side of the recognizer, for a graph whose input is token ids: the
/// exporter's shape arithmetic folded at the input's length (`ONNXSequenceFolding`), then
/// the layers' dataflow matched into EMBED, POSEMBED, LN, RMSNORM, LINEAR, GELU, ATTN
/// and the residual adds. Tensors of a pattern seen part way are `SequencePartial`s.
extension ONNXLayerRecognizer {
  /// The op types a token graph may hold besides `supported`.
  static let sequenceOps: Set<String> = [
    "And", "Equal", "Expand", "Gather", "GatherElements", "Greater", "GreaterOrEqual", "IsNaN", "LayerNormalization", "Less",
    "LessOrEqual", "Mod", "Neg", "Not", "Or", "Pow", "Range", "Reciprocal", "Shape", "Split", "Sqrt", "Sub", "Trilu", "Where", "Cos", "Sin",
  ]

  /// The sequence length: the token input's one extent, or a grid's tokens (and its
  /// class token) in a vision transformer.
  var length: Int { sequenceLength }

  /// The step from a CNN's grid into tokens, in a graph of image input: Shape of a layer,
  /// Reshape of a `[C, H, W]` layer to `[1, C, H*W]`, then Transpose `[0, 2, 1]`: TOKENS,
  /// after which the nodes are read as a transformer's. False when the node is not such a step.
  mutating func gridToTokensStep(_ n: Onnx_NodeProto) throws(DiagnosticError) -> Bool {
    switch n.opType {
    case "Shape":
      guard let c = try shapeOf(ONNXAttributes(n)) else { return false }
      constants[n.output[0]] = c
      return true
    case "Reshape":
      guard let x = values[n.input[0]], layers[x].shape.count == 3, let t = constants[n.input.count > 1 ? n.input[1] : ""]?.integers,
        t.count == 3, [0, 1, -1].contains(t[0]), [0, layers[x].shape[0]].contains(t[1]),
        [-1, layers[x].shape[1] * layers[x].shape[2]].contains(t[2])
      else { return false }
      seq[n.output[0]] = .grid(x)
      return true
    case "Transpose":
      guard case .grid(let x)? = seq[n.input[0]], ONNXAttributes(n).ints("perm") == [0, 2, 1] else { return false }
      let s = layers[x].shape
      sequence = true
      sequenceLength = s[1] * s[2]
      append(.tokens, "TOKENS", [x], [sequenceLength, s[0]], module: ModulePath.of(n, weight: nil))
      return true
    default:
      return false
    }
  }

  mutating func sequenceNode(_ n: Onnx_NodeProto) throws(DiagnosticError) {
    guard n.output.count >= 1, !n.output[0].isEmpty else { throw unsupported(node: "has no output") }
    let a = ONNXAttributes(n)
    if try mixtureStep(n, a) { return }
    if let c = try foldSequence(a) {
      constants[n.output[0]] = c
      return
    }
    let out = n.output[0]
    switch n.opType {
    case "Constant":
      try constant(n, a)
    case "Identity", "Dropout", "Cast":
      try sequenceAlias(out, n.input.first ?? "")
    case "Gather":
      if try takePart(a) { return }
      try embedding(a)
    case "Reshape", "Flatten", "Squeeze", "Unsqueeze":
      try sequenceReshape()
    case "LayerNormalization":
      try layerNormalization(a)
    case "Gemm", "MatMul":
      try product(a)
    case "Split":
      try split(a)
    case "Transpose":
      try sequenceTranspose(a)
    case "Expand":
      try sequenceExpand()
    case "Softmax":
      try sequenceSoftmax(a)
    case "Where":
      try maskedScores()
    case "IsNaN":
      guard case .probs(let parts)? = seq[n.input[0]] else {
        throw unsupported(node: "tests a layer's output for NaN; netc imports IsNaN only of attention's probabilities (SDPA's guard)")
      }
      seq[out] = .probsNaN(parts)
    case "Concat" where n.input.count == 2 && constants[n.input[0]] != nil && values[n.input[1]] != nil:
      try classToken(a)
    case "Slice", "Neg", "Concat":
      guard try rotaryStep() else {
        throw unsupported(
          node: "computes from a layer's output; netc imports \(n.opType) of constants and in rotary positions (x cos + rotate_half(x) sin)"
        )
      }
    case "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Tanh", "ReduceMean", "Reciprocal", "Erf":
      if try elementwiseStep() { return }
      if n.opType == "Add" {
        try sequenceAdd()
      } else if n.opType == "Mul" {
        try product()
      } else if n.opType == "Tanh" {
        let x = try layerInput(0)
        append(.tanh, "TANH", [x], layers[x].shape)
      } else {
        throw unsupported(node: "is not part of a pattern netc imports (LN, RMSNORM, GELU, attention's scale)")
      }
    case "Gelu":
      let approximate = a.string("approximate") ?? "none"
      let x = try layerInput(0)
      append(.gelu, "GELU", [x], layers[x].shape, options: approximate == "tanh" ? ["tanh"] : [])
    case "Relu", "Sigmoid", "Tanh":
      let x = try layerInput(0)
      let (op, head): (OpKind, String) =
        n.opType == "Relu" ? (.relu, "RELU") : n.opType == "Sigmoid" ? (.sigmoid, "SIGMOID") : (.tanh, "TANH")
      append(op, head, [x], layers[x].shape)
    default:
      throw unsupported(
        node:
          "computes from a layer's output in a way netc does not import; in a token graph netc imports Gather (EMBED), LayerNormalization, Gemm and MatMul (LINEAR), attention, GELU, the residual Add, and shape arithmetic of constants"
      )
    }
  }

  // MARK: - Tensors

  /// Makes `out` another name of what `name` is.
  mutating func sequenceAlias(_ out: String, _ name: String) throws(DiagnosticError) {
    if let p = seq[name] {
      seq[out] = p
    } else {
      try alias(out, to: name)
    }
  }

  /// The layer input `k` of the current node is; a pending LINEAR or norm becomes one now.
  mutating func layerInput(_ k: Int) throws(DiagnosticError) -> Int {
    guard k < node.input.count, !node.input[k].isEmpty else { throw unsupported(node: "has no input \(k + 1)") }
    let id = try layer(of: node.input[k])
    guard !isTokenInput(id) else {
      throw unsupported(node: "reads the token ids; netc reads them only through an embedding (Gather of a table: EMBED)")
    }
    return id
  }

  mutating func layer(of name: String) throws(DiagnosticError) -> Int {
    if let v = values[name] { return v }
    switch seq[name] {
    case .linear(let p)?:
      let id = try materialize(p)
      values[name] = id
      return id
    case .attention(let parts)?:
      let id = try materialize(parts, output: name)
      values[name] = id
      return id
    case .normScaled(let x, let eps, let gamma, let rms, let nodeName, let module)?:
      let id = normLayer(x: x, eps: eps, gamma: gamma, beta: nil, rms: rms, nodeName: nodeName, module: module, outputName: name)
      values[name] = id
      return id
    case .some:
      throw unsupported(
        node: "reads `\(name.prefix(80))`, a step of a pattern (attention, a norm or GELU) that netc imports only whole")
    case nil:
      return try input(node.input.firstIndex(of: name) ?? 0)
    }
  }

  /// Appends a layer with the current node's names.
  @discardableResult
  mutating func append(
    _ op: OpKind, _ head: String, _ inputs: [Int], _ shape: [Int], options: [String] = [], module: String? = nil,
    nodeName: String? = nil, outputName: String? = nil, opType: String? = nil
  ) -> Int {
    let l = ImportedLayer(
      op: op, head: head, options: options, inputs: inputs, shape: shape, modulePath: module ?? ModulePath.of(node, weight: nil),
      nodeName: nodeName ?? node.name, outputName: outputName ?? node.output.first ?? "", opType: opType ?? node.opType)
    layers.append(l)
    values[l.outputName] = layers.count - 1
    return layers.count - 1
  }

  /// The LINEAR a pending projection is, made once; tied to an embedding whose table it equals.
  mutating func materialize(_ p: PendingLinear) throws(DiagnosticError) -> Int {
    if let id = built[p.key] { return id }
    var shape = layers[p.input].shape
    guard shape.last == p.weight.shape[1] else {
      throw unsupported(node: "reads a projection of \(p.weight.shape[1]) inputs from a tensor of shape \(shape)")
    }
    shape[shape.count - 1] = p.units
    var options: [String] = []
    if p.bias == nil { options.append("nobias") }
    let tied = layers.indices.first {
      layers[$0].op == .embed && layers[$0].parameters.first?.1.shape == p.weight.shape
        && layers[$0].parameters.first?.1.data == p.weight.data
    }
    let id = append(
      .linear, "LINEAR-\(p.units)", [p.input], shape, options: options,
      module: tied == nil ? p.modulePath : p.nodeModulePath ?? p.modulePath,
      nodeName: p.nodeName, outputName: p.key, opType: p.opType)
    if let t = tied {
      layers[id].tiedTo = t
    } else {
      layers[id].parameters.append((.weight, p.weight))
    }
    if let b = p.bias { layers[id].parameters.append((.bias, Tensor(shape: [p.units], data: b))) }
    built[p.key] = id
    return id
  }

  /// Mul of two layers: SiLU (x · sigmoid(x), nothing else reading the gate) or a product
  /// merge (SwiGLU's gate times its up projection).
  mutating func product() throws(DiagnosticError) {
    guard node.input.count == 2, node.input.allSatisfy({ constants[$0] == nil }) else {
      throw unsupported(node: "multiplies by a constant outside a pattern netc imports (LN, RMSNORM, GELU, attention's scale)")
    }
    let x = try layerInput(0), y = try layerInput(1)
    for (a, g) in [(x, y), (y, x)] {
      let gate = layers[g]
      if gate.op == .sigmoid, gate.inputs == [a], g == layers.count - 1, uses[gate.outputName] == 1 {
        layers[g].op = .silu
        layers[g].head = "SILU"
        layers[g].outputName = node.output[0]
        values[node.output[0]] = g
        return
      }
    }
    guard layers[x].shape == layers[y].shape else {
      throw unsupported(node: "multiplies tensors of shapes \(layers[x].shape) and \(layers[y].shape); netc's product takes one shape")
    }
    append(.mul, "", [x, y], layers[x].shape)
  }

  // MARK: - Embeddings

  /// Gather of a table by the token ids is EMBED; by constant positions it folds (a
  /// position table's rows, kept as such for POSEMBED).
  mutating func embedding(_ a: ONNXAttributes) throws(DiagnosticError) {
    if constants[node.input[0]] == nil { return try take(a) }
    guard (a.int("axis") ?? 0) == 0, let table = constants[node.input[0]], table.shape.count == 2 else {
      throw unsupported(node: "gathers from a computed tensor; netc imports Gather of a 2-D table by the token ids (EMBED)")
    }
    guard node.input.count == 2, let ids = values[node.input[1]], isTokenInput(ids) else {
      throw unsupported(
        node:
          "gathers a table by `\(node.input.count > 1 ? node.input[1].prefix(80) : "")`, not the token ids; netc imports that as EMBED only"
      )
    }
    let (vocab, width) = (table.shape[0], table.shape[1])
    let id = append(
      .embed, "EMBED-\(width)", [ids], [layers[ids].shape[0], width], options: ["vocab \(vocab)"],
      // The node's own module first: a tied table's one initializer may be named after the head.
      module: ModulePath.of(node, weight: nil) ?? ModulePath.of(node, weight: node.input[0]))
    layers[id].parameters = [(.weight, table.tensor)]
  }

  /// Concat of a learned `[1, 1, C]` token (expanded over the batch) before the tokens: CLSTOKEN.
  mutating func classToken(_ a: ONNXAttributes) throws(DiagnosticError) {
    let token = constants[node.input[0]]!
    let x = try layerInput(1)
    let shape = layers[x].shape
    guard shape.count == 2, [1, -2].contains(a.int("axis") ?? 0), token.shape == [1, 1, shape[1]] else {
      throw unsupported(
        node:
          "concatenates a constant of shape \(token.shape) to \(shape); netc imports a class token [1, 1, C] before the tokens (CLSTOKEN)")
    }
    let id = append(.clstoken, "CLSTOKEN", [x], [shape[0] + 1, shape[1]], module: ModulePath.of(node, weight: nil))
    layers[id].parameters = [(.weight, Tensor(shape: [shape[1]], data: token.floats))]
    sequenceLength = shape[0] + 1
  }

  /// Gather of one token of a sequence (BERT's pooler reads the first): TAKE.
  mutating func take(_ a: ONNXAttributes) throws(DiagnosticError) {
    let x = try layerInput(0)
    let shape = layers[x].shape
    let axis = a.int("axis") ?? 0
    guard shape.count == 2, axis == 1, let index = try constantInput(1)?.integers, index.count == 1, (try constantInput(1))?.shape == []
    else {
      throw unsupported(
        node: "gathers from a layer's output of shape \(shape) along axis \(axis); netc imports one token of a sequence (TAKE)")
    }
    let i = index[0] < 0 ? index[0] + shape[0] : index[0]
    guard i >= 0, i < shape[0] else { throw unsupported(node: "takes token \(index[0]) of \(shape[0])") }
    append(.take, "TAKE", [x], [shape[1]], options: i == 0 ? [] : i == shape[0] - 1 ? ["index -1"] : ["index \(i)"])
  }

  /// Add of a layer and a constant: POSEMBED (the rows of a position table), TYPEEMBED
  /// (row 0 of a type table, tokens of type 0), the bias of a pending projection, or the
  /// residual add of two layers.
  mutating func sequenceAdd() throws(DiagnosticError) {
    guard node.input.count == 2 else { throw unsupported(node: "has \(node.input.count) inputs") }
    for (v, c) in [(0, 1), (1, 0)] {
      guard let b = constants[node.input[c]] else { continue }
      switch seq[node.input[v]] {
      case .linear(var p)? where p.bias == nil && b.floats.count == p.units:
        p.bias = b.floats
        seq[node.output[0]] = .linear(p)
        return
      case .attention(var parts)? where parts.bo == nil && b.floats.count == parts.wo?.shape[0]:
        parts.bo = b.floats
        seq[node.output[0]] = .attention(parts)
        knownShapes[node.output[0]] = knownShapes[node.input[v]]
        return
      case .normScaled(let x, let eps, let gamma, let rms, _, let module)? where b.floats.count == gamma.count:
        normLayer(x: x, eps: eps, gamma: gamma, beta: b.floats, rms: rms, nodeName: node.name, module: module, outputName: node.output[0])
        return
      default: break
      }
      let x = try layer(of: node.input[v])
      try positionAdd(x, b, constantName: node.input[c])
      return
    }
    let x = try layerInput(0), y = try layerInput(1)
    guard layers[x].shape == layers[y].shape else {
      throw unsupported(node: "adds tensors of shapes \(layers[x].shape) and \(layers[y].shape); netc adds tensors of one shape")
    }
    append(.add, "", [x, y], layers[x].shape)
  }

  mutating func positionAdd(_ x: Int, _ c: ONNXConstant, constantName: String) throws(DiagnosticError) {
    let shape = layers[x].shape
    var source = tables[constantName]
    // A whole table added as it is (an export at a length equal to its rows).
    let squeezed = Array(c.shape.drop { $0 == 1 })
    if source == nil, initializers.contains(constantName), squeezed.count == 2, squeezed[0] == shape.first {
      let table = ONNXConstant(shape: squeezed, floats: c.floats)
      // The table's own name (torchvision's `encoder.pos_embedding`) names the layer.
      let named = !constantName.contains("/") && !constantName.contains("::") && !constantName.isEmpty
      source = (table: table, rows: Array(0..<squeezed[0]), module: named ? constantName : ModulePath.of(node, weight: constantName))
    }
    guard shape.count == 2, let source else {
      throw unsupported(
        node: "adds a constant of shape \(c.shape) to \(shape); netc imports that as POSEMBED (rows 0..<T of a position table) or a bias")
    }
    let table = source.table
    guard table.shape.count == 2, table.shape[1] == shape[1] else { throw unsupported(node: "adds a table of \(table.shape) to \(shape)") }
    // Vaswani et al.'s sinusoids, a buffer of the model and no parameter (a symbolic length
    // may have been folded past the rows an exporter wrote for its own length).
    if source.rows == Array(0..<source.rows.count),
      source.rows.count == shape[0] || layers.contains(where: { $0.op == .input && !$0.options.isEmpty }),
      Self.isSinusoidal(table, rows: source.rows.count)
    {
      append(.posembed, "POSEMBED", [x], shape, options: ["sinusoidal"], module: source.module)
      return
    }
    if source.rows == Array(0..<shape[0]) {
      let id = append(.posembed, "POSEMBED-\(table.shape[0])", [x], shape, module: source.module)
      layers[id].parameters = [(.weight, table.tensor)]
    } else if Set(source.rows) == [0] {
      let id = append(.typeembed, "TYPEEMBED-\(table.shape[0])", [x], shape, module: source.module)
      layers[id].parameters = [(.weight, table.tensor)]
    } else {
      throw unsupported(
        node: "adds rows \(source.rows.prefix(8)) of a table; netc imports positions 0..<T (POSEMBED) and type 0 (TYPEEMBED)")
    }
  }

  /// Whether the first `rows` rows of `table` are `SequenceOps.sinusoidal`'s, to float32
  /// rounding of the angles (PyTorch computes them in float32).
  static func isSinusoidal(_ table: ONNXConstant, rows: Int) -> Bool {
    let width = table.shape[1]
    guard rows >= 1, width >= 2, rows * width <= table.floats.count else { return false }
    let want: [Float] = SequenceOps.sinusoidal(length: rows, channels: width)
    for i in 0..<(rows * width) where abs(table.floats[i] - want[i]) > 1e-3 { return false }
    return true
  }

  // MARK: - Norms

  mutating func layerNormalization(_ a: ONNXAttributes) throws(DiagnosticError) {
    let x = try layerInput(0)
    guard (a.int("axis") ?? -1) == -1 || (a.int("axis") ?? -1) == layers[x].shape.count else {
      throw unsupported(node: "normalizes from axis \(a.int("axis") ?? -1); netc's LN normalizes the last axis")
    }
    guard let g = try constantInput(1), g.floats.count == layers[x].shape.last else {
      throw unsupported(node: "has no constant scale of the last axis' size")
    }
    let b = try constantInput(2)
    let eps = a.float("epsilon") ?? 1e-5
    guard eps.isFinite, eps > 0, eps <= 1 else { throw unsupported(node: "has epsilon \(eps); netc's eps is a number above 0, at most 1") }
    normLayer(
      x: x, eps: eps, gamma: g.floats, beta: b?.floats, rms: false, nodeName: node.name,
      module: ModulePath.of(node, weight: nil), outputName: node.output[0])
  }

  @discardableResult
  mutating func normLayer(
    x: Int, eps: Float, gamma: [Float], beta: [Float]?, rms: Bool, nodeName: String, module: String?, outputName: String
  ) -> Int {
    var options: [String] = []
    if eps != Float(1e-5) { options.append("eps \(eps)") }
    if rms && beta != nil { options.append("bias true") }
    if !rms && beta == nil { options.append("bias false") }
    let id = append(
      rms ? .rmsnorm : .layernorm, rms ? "RMSNORM" : "LN", [x], layers[x].shape, options: options, module: module, nodeName: nodeName,
      outputName: outputName)
    layers[id].parameters = [(.gamma, Tensor(shape: [gamma.count], data: gamma))]
    if let b = beta { layers[id].parameters.append((.beta, Tensor(shape: [b.count], data: b))) }
    return id
  }
}
