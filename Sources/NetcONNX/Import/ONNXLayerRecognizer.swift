import NetcBackends
import NetcDiagnostics
import NetcIR

/// Turns an ONNX graph's nodes into netc layers, one node or a small pattern at a time:
/// Conv (with its bias), BatchNormalization, activations (Clip as RELU6, x * Sigmoid(x)
/// as SILU), pools, Flatten and its Reshape and Squeeze spellings, Gemm or MatMul (+ Add)
/// as FC, and the merges (Add, Concat, Mul) that structures end in. Constants, Identity
/// and Dropout only rename tensors.
struct ONNXLayerRecognizer {
  /// The ONNX op types netc imports, for the error that names the others.
  static let supported: [String] = [
    "Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Constant", "Conv", "ConvTranspose", "Div", "Dropout", "Erf",
    "Flatten", "Gelu", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "HardSigmoid", "HardSwish", "Identity", "LeakyRelu", "MatMul",
    "MaxPool", "Mul", "Pad", "ReduceMax", "ReduceMean", "Relu", "Reshape", "Resize", "Sigmoid", "Softmax", "Squeeze", "Sum", "Tanh",
  ]
  /// The most nodes a graph may have (ten times the largest torchvision CNN's).
  static let maxNodes = 100_000
  /// The largest extent of the input.
  static let maxExtent = 1 << 24

  var file: ONNXModelFile
  let opset: Int
  var layers: [ImportedLayer] = []
  var values: [String: Int] = [:]
  var constants: [String: ONNXConstant] = [:]
  /// How many node inputs and graph outputs read each tensor.
  var uses: [String: Int] = [:]
  /// The tensors of a GELU pattern seen part way (`ONNXGeluPattern`).
  var partials: [String: GeluPartial] = [:]
  /// The tensors of a mixture's routing seen part way (`ONNXMixturePattern`).
  var mixture = MixtureTensors()
  var node = Onnx_NodeProto()
  /// The layer the graph's output is.
  var output = 0
  /// Whether a node netc cannot import is left out (and listed) instead of an error.
  var partial = false
  /// The nodes left out, in graph order.
  var unimported: [UnimportedNode] = []
  /// Each tensor a node left out writes, and that node's name.
  var blocked: [String: String] = [:]
  /// The layers a partial import recognized that are not on the path to its output.
  var unreached = 0
  /// Whether the input is token ids: a transformer, read by `sequenceNode`.
  var sequence = false
  /// The tensors of a transformer pattern seen part way (`ONNXSequenceRecognizer`).
  var seq: [String: SequencePartial] = [:]
  /// The layer each pending projection or finished attention became, by its key.
  var built: [String: Int] = [:]
  /// Constants that are rows of a weight table (position or type embeddings).
  var tables: [String: (table: ONNXConstant, rows: [Int], module: String?)] = [:]
  /// Extents of attention's intermediate tensors (for Shape nodes that read them).
  var knownShapes: [String: [Int]] = [:]
  /// The sequence's length once the graph is a transformer's (`length`).
  var sequenceLength = 0
  /// The graph's initializers (weights), by name.
  var initializers: Set<String> = []
  /// The image layers' outputs seen channels last (`ONNXChannelsLastPattern`).
  var views: Set<String> = []
  /// The layer outputs seen time-major (`[T, 1, C]`: `timeMajorAlias`), for Shape.
  var timeMajor: Set<String> = []
  /// The optional inputs read as constants, each with its value (`readOptional`).
  var assumed: [String] = []

  init(file: ONNXModelFile) {
    self.file = file
    let ops = file.model.opsetImport.filter { $0.domain == "" || $0.domain == "ai.onnx" }
    opset = ops.first.map { Int(clamping: $0.version) } ?? 1
  }

  var graph: Onnx_GraphProto { file.model.graph }
  var path: String { file.path }

  mutating func recognize() throws(DiagnosticError) {
    guard graph.node.count <= Self.maxNodes else {
      throw ONNXModelFile.failure(path, "has \(graph.node.count) nodes, more than netc imports (\(Self.maxNodes))")
    }
    if !partial { try refuseUnknownOps() }
    for t in graph.initializer {
      constants[t.name] = try ONNXConstant(t, file: &file)
      initializers.insert(t.name)
    }
    try readInput()
    for n in graph.node {
      for i in n.input where !i.isEmpty { uses[i, default: 0] += 1 }
    }
    for o in graph.output { uses[o.name, default: 0] += 1 }
    for n in graph.node {
      node = n
      let inView = n.input.contains(where: views.contains)
      if partial { try recognizeOrLeaveOut(n) } else { try recognize(n) }
      // What a channels-last view computes stays one, until the Transpose back.
      if inView && n.opType != "Transpose" { for o in n.output where !o.isEmpty { views.insert(o) } }
    }
    if partial { return try partialOutput() }
    guard graph.output.count == 1 else {
      throw unsupported("has \(graph.output.count) outputs; netc imports networks with one")
    }
    if sequence {
      output = try layer(of: graph.output[0].name)
      return
    }
    guard let out = values[graph.output[0].name] else {
      throw unsupported("has output `\(graph.output[0].name.prefix(80))`, which no layer computes (a constant?)")
    }
    output = out
  }

  /// Whether netc imports nodes of `n`'s op type (of some inputs and attributes).
  static func imports(_ n: Onnx_NodeProto) -> Bool {
    (n.domain.isEmpty || n.domain == "ai.onnx")
      && (supported.contains(n.opType) || folded.contains(n.opType) || mixtureOps.contains(n.opType) || sequenceOps.contains(n.opType))
  }

  /// One error per op type netc does not import, naming its first node and the supported list.
  func refuseUnknownOps() throws(DiagnosticError) {
    var seen: [String: (first: String, count: Int)] = [:]
    var order: [String] = []
    for n in graph.node {
      if Self.imports(n) { continue }
      let type = n.domain.isEmpty ? n.opType : "\(n.domain).\(n.opType)"
      if seen[type] == nil { order.append(type) }
      seen[type, default: (n.name, 0)].count += 1
    }
    if order.isEmpty { return }
    throw DiagnosticError(
      order.map { type in
        let (first, count) = seen[type]!
        let more = count > 1 ? " (and \(count - 1) more)" : ""
        return .error(
          .onnxUnsupported,
          "`\(path)`: node `\(first.prefix(80))` has op type `\(type.prefix(60))`, which netc does not import\(more)",
          at: nil,
          notes: [
            .init(
              "netc imports \(Self.supported.joined(separator: ", ")), and \(Self.folded.sorted().joined(separator: ", ")) of constants; in a graph of token ids also \(Self.sequenceOps.sorted().joined(separator: ", ")) (shape arithmetic, masks, norms and attention)"
            )
          ])
      })
  }

  /// The one graph input that is not an initializer: `[N, C, spatial...]` or `[N, F]`,
  /// its extents numbers (the batch may be symbolic).
  mutating func readInput() throws(DiagnosticError) {
    var inputs = graph.input.filter { constants[$0.name] == nil }
    guard !inputs.isEmpty else { throw unsupported("has no input besides its weights") }
    // transformers' optional inputs beside the token ids are read as their defaults.
    let optional = inputs.filter { Self.optionalInputs[$0.name] != nil }
    if !optional.isEmpty && optional.count < inputs.count && inputs.allSatisfy({ optional.contains($0) || Self.isTokenIds($0) }) {
      inputs.removeAll { optional.contains($0) }
      if inputs.count > 1 { try readSeveralTokenInputs(inputs) } else { try readTokens(inputs[0]) }
      for x in optional { try readOptional(x, tokens: inputs) }
      return
    }
    if inputs.count > 1 { return try readSeveralTokenInputs(inputs) }
    let x = inputs[0]
    // Token ids (int64) are a transformer's input, never a float vector of T features.
    if Self.isTokenIds(x) { return try readTokens(x) }
    if isFloatSequence(x) { return try readFloatSequence(x) }
    let element = x.type.tensorType.elemType
    let floats: [Onnx_TensorProto.DataType] = [.undefined, .float, .float16, .double, .bfloat16]
    guard floats.map({ Int32($0.rawValue) }).contains(element) else {
      let type = Onnx_TensorProto.DataType(rawValue: Int(element)).map { "\($0)" } ?? "\(element)"
      throw unsupported(
        "has an input `\(x.name.prefix(80))` of element type \(type.prefix(20)); netc imports float inputs and int64 or int32 token ids"
      )
    }
    guard x.type.tensorType.hasShape else { throw unsupported("gives its input `\(x.name.prefix(80))` no shape") }
    let dims = x.type.tensorType.shape.dim
    guard (2...5).contains(dims.count) else {
      throw unsupported("has an input of rank \(dims.count); netc imports [N, F] vectors and [N, C, ...] images of 1 to 3 spatial axes")
    }
    var shape: [Int] = []
    for d in dims.dropFirst() {
      guard case .dimValue(let v)? = d.value, v >= 1, v <= Self.maxExtent else {
        let what: String
        if case .dimParam(let p)? = d.value {
          what = "the symbolic extent `\(p.prefix(40))`"
        } else {
          what = "an unknown or invalid extent"
        }
        throw unsupported(
          "has \(what) in its input `\(x.name.prefix(80))`; netc imports inputs whose extents (all but the batch) are numbers")
      }
      shape.append(Int(v))
    }
    layers.append(ImportedLayer(op: .input, head: "", inputs: [], shape: shape, nodeName: x.name, outputName: x.name))
    values[x.name] = 0
  }

  /// Token ids `[1, T]` (a batch of one; a symbolic batch is read as one): a transformer's
  /// input. A symbolic length (netc's own exports keep `T`) is folded at `foldedLength` and
  /// written back as the spec's var, the patterns being the same at every length.
  mutating func readTokens(_ x: Onnx_ValueInfoProto, foldedAt folded: Int = Self.foldedLength) throws(DiagnosticError) {
    let dims = x.type.tensorType.shape.dim
    guard x.type.tensorType.hasShape, dims.count == 2 else {
      throw unsupported("has token ids `\(x.name.prefix(80))` of rank \(dims.count); netc imports [1, T] (a batch of one)")
    }
    if case .dimValue(let n)? = dims[0].value, n != 1 {
      throw unsupported("has token ids of batch \(n); netc imports [1, T] (a batch of one)")
    }
    guard let (t, options) = Self.length(dims[1], foldedAt: folded) else {
      throw unsupported(
        "has an invalid extent in its token input `\(x.name.prefix(80))`; netc imports token ids of a fixed or named length")
    }
    sequence = true
    sequenceLength = t
    layers.append(
      ImportedLayer(op: .input, head: "tokens", options: options, inputs: [], shape: [t], nodeName: x.name, outputName: x.name))
    values[x.name] = layers.count - 1
  }

  /// The length a token graph of symbolic length is folded at.
  static let foldedLength = 8

  /// The most inputs a graph may have (netc's own limit for `inputs:`).
  static let maxInputs = 64

  static func isTokenIds(_ x: Onnx_ValueInfoProto) -> Bool {
    [Onnx_TensorProto.DataType.int64, .int32].map({ Int32($0.rawValue) }).contains(x.type.tensorType.elemType)
  }

  /// Several inputs: an encoder-decoder's token ids (`inputs:` in the spec), each an input
  /// layer. Symbolic lengths are folded at different lengths (8, 7, ...), so that a mask or
  /// a reshape that mixes the source's length up with the target's is seen; patterns compare
  /// extents with the length of the tensor they read.
  mutating func readSeveralTokenInputs(_ inputs: [Onnx_ValueInfoProto]) throws(DiagnosticError) {
    guard inputs.count <= Self.maxInputs else {
      throw unsupported("has \(inputs.count) inputs besides its weights; netc imports at most \(Self.maxInputs)")
    }
    for x in inputs where !Self.isTokenIds(x) && !isFloatSequence(x) {
      throw unsupported(
        "has \(inputs.count) inputs, among them `\(x.name.prefix(80))`, which is neither token ids nor a sequence [1, L, C]; netc imports several inputs as sequences (an encoder-decoder), else one input"
      )
    }
    for (k, x) in inputs.enumerated() {
      let folded = Swift.max(Self.foldedLength - k, 2)
      if Self.isTokenIds(x) { try readTokens(x, foldedAt: folded) } else { try readFloatSequence(x, foldedAt: folded) }
    }
    let vars = inputs.indices.compactMap { layers[$0].options.first }
    if Set(vars).count != vars.count {
      throw unsupported("names one symbolic length for several inputs; netc gives each input's length its own var")
    }
  }

  /// transformers' optional inputs, each read as the value a model takes when it is not
  /// given, and why netc does: its specs take token ids only.
  static let optionalInputs: [String: String] = [
    "attention_mask": "all ones (every token attended: netc's ATTN has no padding mask)",
    "token_type_ids": "all zeros (one segment: netc's TYPEEMBED adds row 0)",
    "position_ids": "0, 1, ..., T-1 (netc's positions)",
  ]

  /// An optional input `[1, T]` (`optionalInputs`) as a constant, T the length of the
  /// token input whose length it shares (the same symbol, or the same number).
  mutating func readOptional(_ x: Onnx_ValueInfoProto, tokens: [Onnx_ValueInfoProto]) throws(DiagnosticError) {
    let dims = x.type.tensorType.shape.dim
    let floats: [Onnx_TensorProto.DataType] = [.float, .float16, .double, .bfloat16, .bool]
    guard x.type.tensorType.hasShape, dims.count == 2,
      Self.isTokenIds(x) || floats.map({ Int32($0.rawValue) }).contains(x.type.tensorType.elemType)
    else {
      throw unsupported(
        "has an input `\(x.name.prefix(80))` that is not `[1, T]` of integers or floats; netc reads it as its default, of the token ids' shape"
      )
    }
    if case .dimValue(let n)? = dims[0].value, n != 1 {
      throw unsupported("has `\(x.name.prefix(80))` of batch \(n); netc imports a batch of one")
    }
    guard
      let k = tokens.firstIndex(where: { $0.type.tensorType.shape.dim.count == 2 && $0.type.tensorType.shape.dim[1].value == dims[1].value }
      )
    else {
      throw unsupported(
        "has an input `\(x.name.prefix(80))` whose length is no token input's; netc reads it as its default, of the token ids' length")
    }
    let t = layers[k].shape[0]
    let values: [Int] =
      switch x.name {
      case "attention_mask": [Int](repeating: 1, count: t)
      case "token_type_ids": [Int](repeating: 0, count: t)
      default: Array(0..<t)
      }
    constants[x.name] = ONNXConstant(shape: [1, t], floats: values.map(Float.init), integers: values)
    assumed.append("`\(x.name.prefix(80))` read as \(Self.optionalInputs[x.name] ?? "")")
  }

  /// Whether layer `id` is one of the graph's inputs; of token ids.
  func isInput(_ id: Int) -> Bool { layers[id].op == .input }
  func isTokenInput(_ id: Int) -> Bool { layers[id].op == .input && layers[id].head == "tokens" }

  /// Whether a float input `[N, L, C]` is a sequence (netc's `LxC`, channels last), not a
  /// 1-D signal `[N, C, L]`: as netc's own export records its layout, else as the nodes
  /// that read it take it (a MatMul, Gemm or LayerNormalization over its last axis, and
  /// no conv, pool or batch norm).
  func isFloatSequence(_ x: Onnx_ValueInfoProto) -> Bool {
    guard x.type.tensorType.hasShape, x.type.tensorType.shape.dim.count == 3, !Self.isTokenIds(x) else { return false }
    let meta = file.model.metadataProps
    if let layout = (meta.first { $0.key == "netc.layout.input.\(x.name)" } ?? meta.first { $0.key == "netc.layout.input" })?.value {
      return layout == "channels last"
    }
    let readers = graph.node.filter { $0.input.contains(x.name) }.map(\.opType)
    let spatial: Set<String> = [
      "Conv", "ConvTranspose", "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
      "InstanceNormalization",
    ]
    let sequential: Set<String> = ["MatMul", "Gemm", "LayerNormalization", "ReduceMean", "Transpose"]
    return !readers.isEmpty && !readers.contains(where: spatial.contains) && readers.contains(where: sequential.contains)
  }

  /// A float sequence `[1, L, C]` (a symbolic batch read as 1): an input of `LxC`, its
  /// length folded at `folded` when symbolic and written back as its var.
  mutating func readFloatSequence(_ x: Onnx_ValueInfoProto, foldedAt folded: Int = Self.foldedLength) throws(DiagnosticError) {
    let dims = x.type.tensorType.shape.dim
    if case .dimValue(let n)? = dims[0].value, n != 1 {
      throw unsupported("has a sequence `\(x.name.prefix(80))` of batch \(n); netc imports [1, L, C] (a batch of one)")
    }
    guard case .dimValue(let c)? = dims[2].value, c >= 1, c <= Self.maxExtent else {
      throw unsupported("has a sequence `\(x.name.prefix(80))` whose width is not a number; netc imports [1, L, C] of a fixed C")
    }
    guard let (t, options) = Self.length(dims[1], foldedAt: folded) else {
      throw unsupported("has an invalid length in its sequence `\(x.name.prefix(80))`; netc imports sequences of a fixed or named length")
    }
    sequence = true
    sequenceLength = t
    layers.append(
      ImportedLayer(op: .input, head: "sequence", options: options, inputs: [], shape: [t, Int(c)], nodeName: x.name, outputName: x.name))
    values[x.name] = layers.count - 1
  }

  /// A sequence input's length: a number, or a symbol folded at `folded` and kept as the
  /// var it is written back as (the options of the input layer); nil when it is neither.
  static func length(_ d: Onnx_TensorShapeProto.Dimension, foldedAt folded: Int) -> (Int, [String])? {
    switch d.value {
    case .dimValue(let v)? where v >= 1 && v <= Self.maxExtent: (Int(v), [])
    case .dimParam(let p)? where isVarName(p): (folded, [p])
    default: nil
    }
  }

  /// Whether a `dim_param` can be written back as a var of the spec.
  static func isVarName(_ p: String) -> Bool {
    !p.isEmpty && p.count <= 40 && p.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) && p.first!.isLetter
  }

  // MARK: - One node

  mutating func recognize(_ n: Onnx_NodeProto) throws(DiagnosticError) {
    // Every op but Constant reads a first input, which the steps below index (a file's
    // node may lack it).
    guard n.opType == "Constant" || n.input.first.map({ !$0.isEmpty }) == true else { throw unsupported(node: "has no first input") }
    if sequence { return try sequenceNode(n) }
    guard n.output.count >= 1, !n.output[0].isEmpty else { throw unsupported(node: "has no output") }
    let a = ONNXAttributes(n)
    if try mixtureStep(n, a) { return }
    if let c = try fold() {
      constants[n.output[0]] = c
      return
    }
    // Shape arithmetic beyond `folded` (torchvision's ViT computes its grid from the image's
    // Shape by Gather, Div and Mul) folds as in a token graph.
    let present = n.input.filter { !$0.isEmpty }
    if n.opType != "Shape", !present.isEmpty, present.allSatisfy({ constants[$0] != nil }), let c = try foldSequence(a) {
      constants[n.output[0]] = c
      return
    }
    if try gridToTokensStep(n) { return }
    let inView = try readsView(n)
    if n.opType == "Transpose" && channelsLastStep(a) { return }
    if inView, try viewNormStep() { return }
    if Self.folded.contains(n.opType) && n.opType != "Reshape" {
      throw unsupported(node: "computes from a layer's output; netc imports \(n.opType) only of constants (shape arithmetic)")
    }
    switch n.opType {
    case "Constant":
      try constant(n, a)
    case "Identity", "Dropout":
      try alias(n.output[0], to: n.input.first ?? "")
    case "Conv":
      try conv(a)
    case "BatchNormalization":
      try batchNorm(a)
    case "Relu": try activation(.relu, "RELU")
    case "Sigmoid": try activation(.sigmoid, "SIGMOID")
    case "Tanh": try activation(.tanh, "TANH")
    case "HardSwish": try activation(.hardswish, "HARDSWISH")
    case "HardSigmoid":
      guard abs((a.float("alpha") ?? 0.2) - 1 / 6) < 1e-6, abs((a.float("beta") ?? 0.5) - 0.5) < 1e-6 else {
        throw unsupported(
          node: "has alpha \(a.float("alpha") ?? 0.2) and beta \(a.float("beta") ?? 0.5); netc's HARDSIGMOID is relu6(x + 3) / 6")
      }
      try activation(.hardsigmoid, "HARDSIGMOID")
    case "LeakyRelu":
      let alpha = a.float("alpha") ?? 0.01
      guard alpha.isFinite, abs(alpha) <= 1e6 else {
        throw unsupported(node: "has alpha \(alpha); netc's slope is a number from -1e6 to 1e6")
      }
      try activation(.leakyrelu, "LEAKYRELU", options: alpha == 0.01 ? [] : ["slope \(alpha)"])
    case "Clip":
      try clip(a)
    case "Softmax":
      let x = try input(0)
      let r = layers[x].shape.count + 1
      let axis = a.int("axis") ?? (opset >= 13 ? -1 : 1)
      guard (axis < 0 ? axis + r : axis) == 1, opset >= 13 || r == 2 else {
        throw unsupported(node: "is over axis \(axis) of a rank-\(r) tensor; netc's SOFTMAX is over the channels (axis 1)")
      }
      try activation(.softmax, "SOFTMAX")
    case "MaxPool", "AveragePool":
      try pool(a, max: n.opType == "MaxPool")
    case "GlobalAveragePool", "GlobalMaxPool":
      let x = try input(0)
      try spatial(x)
      let c = layers[x].shape[0]
      add(
        n.opType == "GlobalAveragePool" ? .gap : .gmp, n.opType == "GlobalAveragePool" ? "GAP" : "GMP", [x],
        [c] + layers[x].shape.dropFirst().map { _ in 1 })
    case "ReduceMean", "ReduceMax":
      try reduce(a, mean: n.opType == "ReduceMean")
    case "Flatten":
      let x = try input(0)
      let r = layers[x].shape.count + 1
      let axis = a.int("axis") ?? 1
      guard (axis < 0 ? axis + r : axis) == 1 else {
        throw unsupported(node: "flattens from axis \(axis); netc's FLATTEN keeps the batch only (axis 1)")
      }
      try flatten(x)
    case "Reshape":
      try reshape(a)
    case "Squeeze":
      try squeeze(a)
    case "Gemm":
      try gemm(a)
    case "MatMul":
      if inView { try imageLinear() } else { try matmul() }
    case "LayerNormalization":
      try imageLayerNorm(a)
    case "ConvTranspose":
      try convTranspose(a)
    case "Resize":
      try resize(a)
    case "Pad":
      try pad(a)
    case "Gelu":
      let approximate = a.string("approximate") ?? "none"
      guard approximate == "none" || approximate == "tanh" else {
        throw unsupported(node: "has approximate `\(approximate.prefix(20))`; ONNX defines none and tanh")
      }
      try activation(.gelu, "GELU", options: approximate == "tanh" ? ["tanh"] : [])
    case "Div", "Erf":
      if try !geluStep() { throw unsupported(node: "is not part of x * (1 + erf(x / sqrt 2)) / 2; netc imports \(n.opType) only there") }
    case "Add", "Mul":
      if try !geluStep(), try !layerScale() { try merge(a) }
    case "Sum", "Concat":
      try merge(a)
    case "Cast", "ConstantOfShape", "Slice", "Transpose", "Unsqueeze":
      preconditionFailure("folded or refused above")
    default:
      // refuseUnknownOps has named every other op type before any node is read.
      throw unsupported(node: "is not an op netc imports")
    }
  }

  // MARK: - Tensors

  /// The layer whose output input `k` of the current node is.
  func input(_ k: Int) throws(DiagnosticError) -> Int {
    guard k < node.input.count, !node.input[k].isEmpty else { throw unsupported(node: "has no input \(k + 1)") }
    let name = node.input[k]
    if let v = values[name] { return v }
    if partials[name] != nil {
      throw unsupported(
        node: "reads `\(name.prefix(80))`, a step of an unfinished GELU (x * (1 + erf(x / sqrt 2)) / 2), which netc imports only whole")
    }
    if constants[name] != nil {
      throw unsupported(node: "reads the constant `\(name.prefix(80))` where netc expects a layer's output")
    }
    throw unsupported(node: "reads `\(name.prefix(80))`, which no earlier node computes")
  }

  /// Input `k` of the current node as a constant, or nil when it is absent.
  func constantInput(_ k: Int) throws(DiagnosticError) -> ONNXConstant? {
    guard k < node.input.count, !node.input[k].isEmpty else { return nil }
    guard let c = constants[node.input[k]] else {
      throw unsupported(node: "computes its input \(k + 1) (`\(node.input[k].prefix(80))`); netc imports it only as a constant")
    }
    return c
  }

  mutating func alias(_ out: String, to name: String) throws(DiagnosticError) {
    if let v = values[name] {
      values[out] = v
    } else if let c = constants[name] {
      constants[out] = c
    } else {
      throw unsupported(node: "reads `\(name.prefix(80))`, which no earlier node computes")
    }
  }

  mutating func constant(_ n: Onnx_NodeProto, _ a: ONNXAttributes) throws(DiagnosticError) {
    if let t = a.tensor("value") {
      constants[n.output[0]] = try ONNXConstant(t, file: &file)
    } else if let f = a.float("value_float") {
      constants[n.output[0]] = ONNXConstant(shape: [], floats: [f])
    } else if let v = a.ints("value_ints"), a.has("value_ints") {
      constants[n.output[0]] = ONNXConstant(shape: [v.count], floats: v.map { Float($0) }, integers: v)
    } else if let i = a.int("value_int") {
      constants[n.output[0]] = ONNXConstant(shape: [], floats: [Float(i)], integers: [i])
    } else {
      throw unsupported(node: "holds a kind of constant netc does not import (a tensor, a float or integers)")
    }
  }

  /// Appends a layer computed by the current node.
  @discardableResult
  mutating func add(_ op: OpKind, _ head: String, _ inputs: [Int], _ shape: [Int], options: [String] = [], weight: String? = nil)
    -> Int
  {
    layers.append(
      ImportedLayer(
        op: op, head: head, options: options, inputs: inputs, shape: shape, modulePath: ModulePath.of(node, weight: weight),
        nodeName: node.name, outputName: node.output.first ?? "", opType: node.opType))
    values[node.output.first ?? ""] = layers.count - 1
    return layers.count - 1
  }

  mutating func activation(_ op: OpKind, _ head: String, options: [String] = []) throws(DiagnosticError) {
    let x = try input(0)
    add(op, head, [x], layers[x].shape, options: options)
  }

  func spatial(_ x: Int) throws(DiagnosticError) {
    guard layers[x].shape.count >= 2 else {
      throw unsupported(node: "reads a vector; netc's \(node.opType) needs channels and spatial axes")
    }
  }

  // MARK: - Layers

  mutating func conv(_ a: ONNXAttributes) throws(DiagnosticError) {
    let x = try input(0)
    try spatial(x)
    guard let w = try constantInput(1) else { throw unsupported(node: "has no weight") }
    let inShape = layers[x].shape, r = inShape.count - 1
    guard w.shape.count == r + 2 else { throw unsupported(node: "has a weight of shape \(w.shape) for a rank-\(r + 2) input") }
    let groups = a.int("group") ?? 1, cout = w.shape[0], cin = inShape[0]
    guard groups >= 1, groups <= cin, w.shape[1] * groups == cin, cout % groups == 0, cout >= 1 else {
      throw unsupported(node: "has \(groups) groups and weight \(w.shape) on \(cin) channels, which do not fit")
    }
    let kernel = Array(w.shape.dropFirst(2))
    if let k = a.ints("kernel_shape"), k != kernel { throw unsupported(node: "has kernel_shape \(k) but a weight of \(w.shape)") }
    let window = try self.window(a, kernel: kernel, input: Array(inShape.dropFirst()))
    let bias = try constantInput(2)
    if let b = bias, b.floats.count != cout { throw unsupported(node: "has a bias of \(b.floats.count) values for \(cout) filters") }
    let k = Self.extents(kernel)
    let depthwise = groups == cin && groups > 1
    let head = depthwise ? "DWCONV\(k)" + (cout == cin ? "" : "-\(cout / cin)") : "CONV\(k)-\(cout)"
    var options = window.options(pool: false, kernel: kernel)
    if groups > 1 && !depthwise { options.append("groups \(groups)") }
    let id = add(depthwise ? .dwconv : .conv, head, [x], [cout] + window.out, options: options, weight: node.input[1])
    layers[id].bias = bias != nil
    layers[id].parameters = [(.weight, w.tensor)] + (bias.map { [(.bias, Tensor(shape: [cout], data: $0.floats))] } ?? [])
  }

  mutating func batchNorm(_ a: ONNXAttributes) throws(DiagnosticError) {
    let x = try input(0)
    if (a.int("training_mode") ?? 0) != 0 || node.output.dropFirst().contains(where: { !$0.isEmpty }) {
      throw unsupported(node: "is in training mode; netc imports inference graphs (export with model.eval())")
    }
    let c = layers[x].shape[0]
    var p: [(ParameterKind, Tensor<Float>)] = []
    for (k, kind) in [ParameterKind.gamma, .beta, .mean, .variance].enumerated() {
      guard let t = try constantInput(k + 1), t.floats.count == c else {
        throw unsupported(node: "has no \(kind.rawValue) of \(c) values")
      }
      p.append((kind, Tensor(shape: [c], data: t.floats)))
    }
    let eps = a.float("epsilon") ?? 1e-5
    guard eps > 0, eps <= 1 else { throw unsupported(node: "has epsilon \(eps); netc's eps is above 0 and at most 1") }
    let id = add(.bn, "BN", [x], layers[x].shape, options: eps == Float(1e-5) ? [] : ["eps \(eps)"], weight: node.input[1])
    layers[id].parameters = p
  }

  mutating func clip(_ a: ONNXAttributes) throws(DiagnosticError) {
    var lo: Float?, hi: Float?
    if opset < 11 {
      lo = a.float("min")
      hi = a.float("max")
    } else {
      lo = try constantInput(1)?.scalar
      hi = try constantInput(2)?.scalar
    }
    switch (lo, hi) {
    case (0?, 6?): try activation(.relu6, "RELU6")
    case (0?, nil): try activation(.relu, "RELU")
    default:
      throw unsupported(
        node: "clips to [\(lo.map { "\($0)" } ?? "-inf"), \(hi.map { "\($0)" } ?? "inf")]; netc has RELU (0, inf) and RELU6 (0, 6)")
    }
  }

  mutating func pool(_ a: ONNXAttributes, max: Bool) throws(DiagnosticError) {
    let x = try input(0)
    try spatial(x)
    guard let kernel = a.ints("kernel_shape") else { throw unsupported(node: "has no kernel_shape") }
    let inShape = layers[x].shape
    if (a.int("storage_order") ?? 0) != 0 { throw unsupported(node: "has storage_order 1 (an indices output netc does not compute)") }
    let window = try self.window(a, kernel: kernel, input: Array(inShape.dropFirst()), ceil: (a.int("ceil_mode") ?? 0) != 0)
    if !max && (a.int("count_include_pad") ?? 0) == 0 && window.padded {
      throw unsupported(node: "averages over the taps inside the input only (count_include_pad 0); netc's AVGPOOL counts the padding")
    }
    var options = window.options(pool: true, kernel: kernel)
    if window.ceil { options.append("ceil") }
    add(max ? .maxpool : .avgpool, (max ? "POOL" : "AVGPOOL") + Self.extents(kernel), [x], [inShape[0]] + window.out, options: options)
  }

  mutating func reduce(_ a: ONNXAttributes, mean: Bool) throws(DiagnosticError) {
    let x = try input(0)
    try spatial(x)
    let r = layers[x].shape.count + 1
    let axes: [Int]
    if let given = a.ints("axes") { axes = given } else if let c = try constantInput(1), let v = c.integers { axes = v } else { axes = [] }
    let normal = Set(axes.map { $0 < 0 ? $0 + r : $0 })
    guard normal == Set(2..<r) else {
      throw unsupported(node: "reduces axes \(axes) of a rank-\(r) tensor; netc imports a reduction over all spatial axes (a global pool)")
    }
    let c = layers[x].shape[0]
    let g = add(mean ? .gap : .gmp, mean ? "GAP" : "GMP", [x], [c] + (2..<r).map { _ in 1 })
    if (a.int("keepdims") ?? 1) == 0 { add(.flatten, "FLATTEN", [g], [c]) }
  }

  mutating func flatten(_ x: Int) throws(DiagnosticError) {
    let s = layers[x].shape
    if s.count == 1 {
      values[node.output[0]] = x
      return
    }
    add(.flatten, "FLATTEN", [x], [try Self.product(s, path: path)])
  }

  mutating func reshape(_ a: ONNXAttributes) throws(DiagnosticError) {
    let x = try input(0)
    guard let target = try constantInput(1)?.integers else { throw unsupported(node: "has no constant target shape") }
    let n = try Self.product(layers[x].shape, path: path)
    // [batch, features] with the batch as 1, 0 (copy) or -1, and the features given or -1.
    let batchLike = target.first.map { $0 == 1 || $0 == -1 || ($0 == 0 && (a.int("allowzero") ?? 0) == 0) } ?? false
    guard target.count == 2, batchLike, target[1] == n || (target[1] == -1 && target[0] != -1) else {
      throw unsupported(node: "reshapes \(layers[x].shape) to \(target); netc imports a Reshape only as a flatten to [N, \(n)]")
    }
    try flatten(x)
  }

  mutating func squeeze(_ a: ONNXAttributes) throws(DiagnosticError) {
    let x = try input(0)
    let s = layers[x].shape, r = s.count + 1
    let axes: [Int]
    if let given = a.ints("axes") { axes = given } else if let c = try constantInput(1), let v = c.integers { axes = v } else { axes = [] }
    let normal = Set(axes.map { $0 < 0 ? $0 + r : $0 })
    guard s.count >= 2, normal == Set(2..<r), s.dropFirst().allSatisfy({ $0 == 1 }) else {
      throw unsupported(node: "squeezes axes \(axes) of \(s); netc imports a Squeeze only of a global pool's 1x1 extents (a flatten)")
    }
    try flatten(x)
  }

  mutating func gemm(_ a: ONNXAttributes) throws(DiagnosticError) {
    let x = try input(0)
    guard layers[x].shape.count == 1 else { throw unsupported(node: "reads \(layers[x].shape); netc's FC reads a vector (flatten first)") }
    guard (a.float("alpha") ?? 1) == 1, (a.float("beta") ?? 1) == 1, (a.int("transA") ?? 0) == 0 else {
      throw unsupported(node: "has alpha, beta or transA other than 1, 1, 0; netc's FC is x W^T + b")
    }
    guard let w = try constantInput(1), w.shape.count == 2 else { throw unsupported(node: "has no constant 2-D weight") }
    let transB = (a.int("transB") ?? 0) != 0
    var weight = w.tensor
    if !transB { weight = Self.transpose(weight) }
    let units = weight.shape[0]
    guard weight.shape[1] == layers[x].shape[0] else { throw unsupported(node: "has weight \(w.shape) for \(layers[x].shape[0]) inputs") }
    let bias = try constantInput(2)
    if let b = bias, b.floats.count != units {
      throw unsupported(node: "has a bias of shape \(b.shape); netc's FC adds one value per unit (\(units))")
    }
    let id = add(.fc, "FC-\(units)", [x], [units], weight: node.input[1])
    layers[id].bias = bias != nil
    layers[id].parameters = [(.weight, weight)] + (bias.map { [(.bias, Tensor(shape: [units], data: $0.floats))] } ?? [])
  }

  mutating func matmul() throws(DiagnosticError) {
    let x = try input(0)
    guard layers[x].shape.count == 1 else { throw unsupported(node: "reads \(layers[x].shape); netc imports MatMul as an FC on a vector") }
    guard let w = try constantInput(1), w.shape.count == 2, w.shape[0] == layers[x].shape[0] else {
      throw unsupported(node: "has no constant weight of \(layers[x].shape[0]) rows")
    }
    let weight = Self.transpose(w.tensor)
    let id = add(.fc, "FC-\(weight.shape[0])", [x], [weight.shape[0]], weight: node.input[1])
    layers[id].bias = false
    layers[id].parameters = [(.weight, weight)]
  }

  mutating func merge(_ a: ONNXAttributes) throws(DiagnosticError) {
    // An FC from MatMul takes its bias from the Add that follows it alone.
    if node.opType == "Add", node.input.count == 2 {
      for (v, c) in [(0, 1), (1, 0)] {
        guard let id = values[node.input[v]], let b = constants[node.input[c]] else { continue }
        let l = layers[id]
        // A LINEAR of a channels-last view takes its bias as well.
        if l.op == .linear, l.options == ["nobias"], uses[node.input[v]] == 1, b.floats.count == l.shape[0], id == layers.count - 1 {
          layers[id].options = []
          layers[id].parameters.append((.bias, Tensor(shape: [l.shape[0]], data: b.floats)))
          values[node.output[0]] = id
          return
        }
        guard l.op == .fc, l.bias == false, uses[node.input[v]] == 1, b.floats.count == l.shape[0], id == layers.count - 1 else {
          throw unsupported(node: "adds a constant to a tensor; netc imports that only as the bias of the FC (MatMul) before it")
        }
        layers[id].bias = true
        layers[id].parameters.append((.bias, Tensor(shape: l.shape, data: b.floats)))
        values[node.output[0]] = id
        return
      }
    }
    var xs: [Int] = []
    for k in node.input.indices { xs.append(try input(k)) }
    guard !xs.isEmpty else { throw unsupported(node: "has no inputs") }
    let shapes = xs.map { layers[$0].shape }
    switch node.opType {
    case "Concat":
      let r = shapes[0].count + 1
      let axis = a.int("axis") ?? 1
      guard (axis < 0 ? axis + r : axis) == 1, shapes.allSatisfy({ $0.count == shapes[0].count && $0.dropFirst() == shapes[0].dropFirst() })
      else {
        throw unsupported(node: "concatenates \(shapes) along axis \(axis); netc concatenates along the channels (axis 1)")
      }
      var c = 0
      for s in shapes { c += s[0] }
      if xs.count == 1 {
        values[node.output[0]] = xs[0]
        return
      }
      add(.concat, "", xs, [c] + shapes[0].dropFirst())
    case "Mul":
      // x * Sigmoid(x) is SiLU and x * HardSigmoid(x) HardSwish, when nothing else reads the gate.
      if xs.count == 2 {
        for (x, g) in [(xs[0], xs[1]), (xs[1], xs[0])] {
          let gate = layers[g]
          guard gate.inputs == [x], uses[gate.outputName] == 1, g == layers.count - 1 else { continue }
          if gate.op == .sigmoid || gate.op == .hardsigmoid {
            layers[g].op = gate.op == .sigmoid ? .silu : .hardswish
            layers[g].head = gate.op == .sigmoid ? "SILU" : "HARDSWISH"
            layers[g].outputName = node.output[0]
            values[node.output[0]] = g
            return
          }
        }
      }
      guard shapes.allSatisfy({ $0.count == shapes[0].count }) else {
        throw unsupported(node: "multiplies tensors of ranks \(shapes.map(\.count)); netc's product broadcasts tensors of one rank")
      }
      var out = shapes[0]
      for s in shapes.dropFirst() {
        for i in s.indices {
          guard s[i] == out[i] || s[i] == 1 || out[i] == 1 else { throw unsupported(node: "multiplies \(shapes), which do not broadcast") }
          out[i] = max(out[i], s[i])
        }
      }
      add(.mul, "", xs, out)
    default:
      guard shapes.allSatisfy({ $0 == shapes[0] }) else {
        throw unsupported(node: "adds tensors of shapes \(shapes); netc adds tensors of one shape")
      }
      if xs.count == 1 {
        values[node.output[0]] = xs[0]
        return
      }
      add(.add, "", xs, shapes[0])
    }
  }

  // MARK: - Windows

  /// A window's geometry on one node, and its output extents.
  struct Window {
    var stride: [Int]
    var dilation: [Int]
    var padBegin: [Int]
    var padEnd: [Int]
    var out: [Int]
    var ceil: Bool
    var padded: Bool { padBegin.contains { $0 != 0 } || padEnd.contains { $0 != 0 } }

    /// `stride`, `pad`, `dilation` as netc writes them, leaving out the defaults (a
    /// pool's stride defaults to its kernel).
    func options(pool: Bool, kernel: [Int]) -> [String] {
      var o: [String] = []
      if stride != (pool ? kernel : stride.map { _ in 1 }) { o.append("stride " + ONNXLayerRecognizer.perAxis(stride)) }
      if padded {
        if padBegin == padEnd {
          o.append("pad " + ONNXLayerRecognizer.perAxis(padBegin))
        } else if Set(padBegin).count == 1 && Set(padEnd).count == 1 {
          o.append("pad \(padBegin[0]):\(padEnd[0])")
        } else {
          o.append("pad " + zip(padBegin, padEnd).map { "\($0):\($1)" }.joined(separator: ","))
        }
      }
      if dilation.contains(where: { $0 != 1 }) { o.append("dilation " + ONNXLayerRecognizer.perAxis(dilation)) }
      return o
    }
  }

  /// Reads strides, dilations, pads and auto_pad (SAME_UPPER and SAME_LOWER become
  /// explicit pads: the input's extents are numbers) and computes the output extents.
  func window(_ a: ONNXAttributes, kernel: [Int], input: [Int], ceil: Bool = false) throws(DiagnosticError) -> Window {
    let r = input.count
    let limit = 1 << 20
    func axes(_ key: String, _ fallback: Int, count: Int, min: Int) throws(DiagnosticError) -> [Int] {
      let v = a.ints(key) ?? [Int](repeating: fallback, count: count)
      guard v.count == count, v.allSatisfy({ $0 >= min && $0 <= limit }) else {
        throw unsupported(node: "has \(key) \(v.prefix(8)); netc expects \(count) values from \(min) to \(limit)")
      }
      return v
    }
    guard kernel.count == r, kernel.allSatisfy({ $0 >= 1 && $0 <= limit }) else {
      throw unsupported(node: "has kernel \(kernel.prefix(8)) for \(r) spatial axes")
    }
    let stride = try axes("strides", 1, count: r, min: 1)
    let dilation = try axes("dilations", 1, count: r, min: 1)
    var pads = try axes("pads", 0, count: 2 * r, min: 0)
    let autoPad = a.string("auto_pad") ?? "NOTSET"
    switch autoPad {
    case "NOTSET", "": break
    case "VALID": pads = [Int](repeating: 0, count: 2 * r)
    case "SAME_UPPER", "SAME_LOWER":
      // out = ceil(in / stride); the odd unit of padding at the end (UPPER) or start (LOWER).
      for i in 0..<r {
        let out = (input[i] + stride[i] - 1) / stride[i]
        let total = Swift.max((out - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 - input[i], 0)
        let small = total / 2
        (pads[i], pads[r + i]) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
      }
    default:
      throw unsupported(node: "has auto_pad `\(autoPad.prefix(40))`; ONNX defines NOTSET, VALID, SAME_UPPER and SAME_LOWER")
    }
    let begin = Array(pads[..<r]), end = Array(pads[r...])
    var out: [Int] = []
    for i in 0..<r {
      let span = input[i] + begin[i] + end[i] - dilation[i] * (kernel[i] - 1) - 1
      guard span >= 0 else {
        throw unsupported(
          node: "has a window of \(dilation[i] * (kernel[i] - 1) + 1) on a padded extent of \(input[i] + begin[i] + end[i])")
      }
      var o = (ceil ? (span + stride[i] - 1) / stride[i] : span / stride[i]) + 1
      // PyTorch's and netc's ceil mode: a last window starting past the input and its
      // begin padding is dropped.
      if ceil && (o - 1) * stride[i] >= input[i] + begin[i] { o -= 1 }
      out.append(o)
    }
    // ceil_mode that changes nothing is left out of the spec.
    var floorOut: [Int] = []
    for i in 0..<r { floorOut.append((input[i] + begin[i] + end[i] - dilation[i] * (kernel[i] - 1) - 1) / stride[i] + 1) }
    return Window(stride: stride, dilation: dilation, padBegin: begin, padEnd: end, out: out, ceil: ceil && out != floorOut)
  }

  // MARK: - Helpers

  /// `3` for a square kernel, `3x5` otherwise.
  static func extents(_ v: [Int]) -> String { Set(v).count == 1 ? "\(v[0])" : v.map(String.init).joined(separator: "x") }

  /// `2` when every axis has the same value, `2,1` otherwise.
  static func perAxis(_ v: [Int]) -> String { Set(v).count == 1 ? "\(v[0])" : v.map(String.init).joined(separator: ",") }

  static func product(_ s: [Int], path: String) throws(DiagnosticError) -> Int {
    var n = 1
    for e in s {
      let (next, overflow) = n.multipliedReportingOverflow(by: e)
      if overflow { throw ONNXModelFile.failure(path, "has a tensor of \(s) elements, which overflows") }
      n = next
    }
    return n
  }

  static func transpose(_ t: Tensor<Float>) -> Tensor<Float> {
    let rows = t.shape[0], cols = t.shape[1]
    var out = [Float](repeating: 0, count: t.data.count)
    for i in 0..<rows { for j in 0..<cols { out[j * rows + i] = t.data[i * cols + j] } }
    return Tensor(shape: [cols, rows], data: out)
  }

  /// An NS602 error about the model as a whole.
  func unsupported(_ what: String) -> DiagnosticError {
    DiagnosticError([.error(.onnxUnsupported, "`\(path)` \(what)", at: nil)])
  }

  /// An NS602 error about the current node, named with its op type.
  func unsupported(node what: String) -> DiagnosticError {
    DiagnosticError([
      .error(.onnxUnsupported, "`\(path)`: node `\(node.name.prefix(80))` (\(node.opType)) \(what)", at: nil)
    ])
  }
}
