import NetcIR

/// Bytes as a closed form in the batch: `perExample · B + constant`. Saved activations
/// grow with the batch; BatchNorm's statistics, position ids and the weights do not.
public struct BatchBytes: Hashable, Sendable {
  /// Bytes per example.
  public var perExample: Int
  /// Bytes whatever the batch.
  public var constant: Int

  /// Creates a figure.
  public init(perExample: Int = 0, constant: Int = 0) {
    self.perExample = perExample
    self.constant = constant
  }

  /// The sum, or nil on overflow.
  public func adding(_ other: BatchBytes) -> BatchBytes? {
    let (a, o1) = perExample.addingReportingOverflow(other.perExample)
    let (c, o2) = constant.addingReportingOverflow(other.constant)
    return o1 || o2 ? nil : BatchBytes(perExample: a, constant: c)
  }

  /// The bytes at `batch`, or nil on overflow.
  public func at(batch: Int) -> Int? {
    let (a, o1) = perExample.multipliedReportingOverflow(by: batch)
    let (s, o2) = a.addingReportingOverflow(constant)
    return o1 || o2 ? nil : s
  }
}

/// What PyTorch's autograd keeps for backward in a training-mode eager forward pass, op by
/// op, as `torch.autograd.graph.saved_tensors_hooks` sees it; each storage once (a view,
/// or a value two ops keep, counts at its first saver), parameters left out (they are the
/// weights), everything else in: the input batch, BatchNorm's batch and running
/// statistics, max-pool indices, dropout's noise. `scripts/reference/saved_tensors.py`
/// counts the same bytes in PyTorch.
public struct SavedTensors: Sendable {
  /// One storage kept for backward.
  public struct Entry: Hashable, Sendable {
    /// The layer that keeps it first.
    public var node: Int
    /// What it is: `input`, `output`, `indices (int64)`, `batch statistics` ...
    public var what: String
    /// Its bytes.
    public var bytes: BatchBytes
  }

  /// Every storage, in the order the forward pass first saves it.
  public var entries: [Entry]
  /// Per node, the bytes of the storages it is the first to save.
  public var nodes: [BatchBytes]
  /// All of them.
  public var total: BatchBytes
  /// The activations' element type.
  public var storage: StorageType
}

/// Bytes per element of BatchNorm's and LayerNorm's statistics: fp32 whatever the
/// activations' type (PyTorch computes them in fp32 under autocast too).
let statisticsBytes = 4
/// Bytes per element of indices (max-pool's, token and position ids): int64.
let indexBytes = 8
/// Bytes per element of a mixture's routing values: Mixtral's router takes its softmax in
/// fp32 (`router_logits.float()`) whatever the activations' type, and so are the weights.
let routingBytes = 4

/// What `graph` saves for backward with activations in `storage`. Nil on overflow.
public func savedForBackward(_ graph: Graph, _ shapes: Shapes, storage: StorageType) -> SavedTensors? {
  var plan = SavedTensorPlan(graph: graph, shapes: shapes, storage: storage)
  return plan.run()
}

/// The walk over the graph behind `savedForBackward`.
private struct SavedTensorPlan {
  let graph: Graph
  let shapes: Shapes
  let storage: StorageType
  /// Per node, the node whose storage holds its value (a view's source).
  var root: [Int] = []
  /// The storages saved already, by root node.
  var saved: Set<Int> = []
  var entries: [SavedTensors.Entry] = []
  var overflow = false
  /// The rotary tables saved already, by length and head width.
  var rotaryTables: Set<[Int]> = []
  /// The mixtures' inputs whose gathered copies (the rows routed to each expert) are saved
  /// already, by root node.
  var gathered: Set<Int> = []
  /// Whether the network has a cross-attention: an encoder-decoder, whose decoder is taken
  /// as BART's (separate projections) rather than GPT-2's (one fused projection).
  var encoderDecoder = false
  /// Per router, the experts each position is routed to (its mixture's expert layers' `activeExperts`).
  var routedExperts: [Int: Int] = [:]

  init(graph: Graph, shapes: Shapes, storage: StorageType) {
    self.graph = graph
    self.shapes = shapes
    self.storage = storage
  }

  /// Elements of node `id`'s value for one example.
  func elements(_ id: Int) -> Int? {
    var n = 1
    for e in shapes[id] {
      let (p, o) = n.multipliedReportingOverflow(by: e)
      if o { return nil }
      n = p
    }
    return n
  }

  /// Bytes per element of node `id`'s value: int64 token ids, else the activations' type.
  func elementBytes(_ id: Int) -> Int { shapes.nodes[id].tokens ? indexBytes : storage.bytes }

  /// Whether `node` returns a view of its input in a training-mode forward pass.
  func isView(_ node: Node) -> Bool {
    switch node.op {
    case .identity, .flatten, .tokens, .take, .slice: return true
    case .dropout, .droppath: return node.attributes.dropProbability == 0
    case .input, .conv, .dwconv, .pwconv, .deconv, .maxpool, .avgpool, .gap, .gmp, .fc, .linear, .bn, .layernorm, .rmsnorm,
      .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .silu, .hardswish, .hardsigmoid, .leakyrelu, .layerscale, .embed,
      .posembed, .typeembed, .clstoken, .attention, .upsample, .pad, .shuffle, .add, .concat, .mul, .router, .moe:
      return false
    }
  }

  /// Whether node `id` is one of a mixture's expert layers.
  func inExpert(_ id: Int) -> Bool { graph.nodes[id].attributes.integers[.experts] != nil }

  /// The product of `factors`, or nil if one is nil or it overflows.
  func product(_ factors: [Int?]) -> Int? {
    var n = 1
    for f in factors {
      guard let f else { return nil }
      let (p, o) = n.multipliedReportingOverflow(by: f)
      if o { return nil }
      n = p
    }
    return n
  }

  /// Saves node `id`'s value (its storage) for `saver`, unless saved already. An expert's
  /// layer stands for all E experts, each run on the rows routed to it: its values hold k
  /// rows per position of the mixture's input in all (`activeExperts`), and it reads the
  /// mixture's input as each expert's gathered copy of its rows, a storage of its own.
  mutating func keep(_ id: Int, for saver: Int, _ what: String) {
    let r = root[id]
    let gather = inExpert(saver) && !inExpert(r)
    guard gather ? gathered.insert(r).inserted : saved.insert(r).inserted else { return }
    let routed = shapes.nodes[gather ? saver : r].activeExperts
    guard let b = product([elements(r), routed, elementBytes(r)]) else { return overflow = true }
    entries.append(.init(node: saver, what: gather ? "\(what) (gathered per expert)" : what, bytes: BatchBytes(perExample: b)))
  }

  /// Saves a fresh storage of `elements` elements of `bytes` bytes each, per example or not.
  /// An expert's layer keeps one per expert: k rows per position in all, and E copies of
  /// what does not grow with the batch.
  mutating func fresh(for saver: Int, _ what: String, elements: Int?, bytes: Int, perExample: Bool = true) {
    let copies = inExpert(saver) ? (perExample ? shapes.nodes[saver].activeExperts : shapes.nodes[saver].experts) : 1
    guard let b = product([elements, bytes, copies]) else { return overflow = true }
    entries.append(.init(node: saver, what: what, bytes: perExample ? BatchBytes(perExample: b) : BatchBytes(constant: b)))
  }

  mutating func run() -> SavedTensors? {
    root = Array(0..<graph.nodes.count)
    encoderDecoder = graph.nodes.contains { $0.op == .attention && $0.inputs.count > 1 }
    for node in graph.nodes where node.op == .moe && node.inputs.count == 3 {
      routedExperts[node.inputs[0]] = shapes.nodes[node.inputs[1]].activeExperts
    }
    for node in graph.nodes where node.id > 0 && isView(node) {
      if let source = node.inputs.first { root[node.id] = root[source] }
    }
    for node in graph.nodes where node.id > 0 && !isView(node) { save(node) }
    if overflow { return nil }
    var nodes = Array(repeating: BatchBytes(), count: graph.nodes.count)
    var total = BatchBytes()
    for e in entries {
      guard let n = nodes[e.node].adding(e.bytes), let t = total.adding(e.bytes) else { return nil }
      nodes[e.node] = n
      total = t
    }
    return SavedTensors(entries: entries, nodes: nodes, total: total, storage: storage)
  }

  /// What one op keeps, as PyTorch's derivative formulas (`derivatives.yaml`) and the
  /// reference implementations (torchvision, Hugging Face) save it.
  mutating func save(_ node: Node) {
    let id = node.id
    let input = node.inputs.first ?? 0
    switch node.op {
    case .input, .identity, .flatten, .tokens, .take, .slice:
      break
    case .conv, .dwconv, .pwconv, .deconv, .fc, .linear:
      // The input, for the weight's gradient (the weight, for the input's, is a parameter).
      keep(input, for: id, "input")
    case .router:
      saveRouter(node)
    case .bn:
      // native_batch_norm's input, its batch mean and inverse deviation, and the running
      // mean and variance it hands to backward: 4 x C fp32 values, whatever the batch.
      keep(input, for: id, "input")
      fresh(
        for: id, "batch and running statistics (4 x C, fp32)", elements: (shapes[id].last ?? 0) * 4, bytes: statisticsBytes,
        perExample: false)
    case .layernorm:
      // native_layer_norm's input and its mean and 1/σ per position (fp32).
      keep(input, for: id, "input")
      fresh(for: id, "mean and rstd per position (fp32)", elements: rows(input).map { 2 * $0 }, bytes: statisticsBytes)
    case .rmsnorm:
      // Hugging Face's Llama RMSNorm: x, 1/rms per position, and the normalized x (for γ's gradient).
      keep(input, for: id, "input")
      fresh(for: id, "rstd per position (fp32)", elements: rows(input), bytes: statisticsBytes)
      fresh(for: id, "normalized input", elements: elements(id), bytes: storage.bytes)
    case .relu, .sigmoid, .tanh, .softmax:
      // Their backward reads the result.
      keep(id, for: id, "output")
    case .relu6:
      // hardtanh's backward reads its input (in place too: torchvision's ReLU6(inplace=True)).
      keep(input, for: id, "input")
    case .gelu:
      keep(input, for: id, "input")
      if node.attributes.tanhApproximation {
        // Hugging Face's gelu_new (GPT-2's), written in Python: pow keeps x, tanh its result
        // t, and 0.5·x · (1 + t) both factors: three more tensors of x's size.
        fresh(for: id, "tanh, 0.5·x and 1 + tanh (gelu_new)", elements: elements(id).map { 3 * $0 }, bytes: storage.bytes)
      }
    case .silu, .hardswish, .hardsigmoid, .leakyrelu:
      // Their backward reads the input (in place, autograd keeps a copy of it instead).
      keep(input, for: id, "input")
    case .dropout:
      // The CPU kernel multiplies by a noise tensor of the input's type and keeps it.
      fresh(for: id, "dropout noise", elements: elements(id), bytes: storage.bytes)
    case .droppath:
      // torchvision's StochasticDepth: one noise value per example.
      fresh(for: id, "drop-path noise (one per example)", elements: 1, bytes: storage.bytes)
    case .maxpool:
      keep(input, for: id, "input")
      fresh(for: id, "indices (int64)", elements: elements(id), bytes: indexBytes)
    case .gmp:
      keep(input, for: id, "input")
      fresh(for: id, "indices (int64)", elements: elements(id), bytes: indexBytes)
    case .avgpool:
      keep(input, for: id, "input")
    case .gap, .upsample, .pad, .shuffle, .add, .concat, .clstoken:
      // Their backward needs shapes only (a global average pool to 1 x 1 runs as a mean).
      break
    case .layerscale:
      // γ · x keeps x for γ's gradient.
      keep(input, for: id, "input")
    case .mul:
      for i in node.inputs { keep(i, for: id, "factor") }
    case .embed, .typeembed:
      // embedding_backward reads the ids (int64).
      if node.op == .embed {
        keep(input, for: id, "token ids (int64)")
      } else {
        fresh(for: id, "token-type ids (int64)", elements: shapes[id].first, bytes: indexBytes)
      }
    case .posembed:
      // In a network of token ids a learned table is an embedding looked up with position
      // ids, one row of T for the whole batch (Hugging Face's); on features it is a
      // parameter added (torchvision's ViT), and a sinusoidal table is no parameter: neither
      // keeps anything.
      if !node.attributes.sinusoidal && graph.allInputs.contains(where: \.tokens) {
        fresh(for: id, "position ids (int64)", elements: shapes[id].first, bytes: indexBytes, perExample: false)
      }
    case .attention:
      saveAttention(node)
    case .moe:
      saveMixture(node)
    }
  }

  /// Mixtral's router (transformers' MixtralTopKRouter) and its dispatch, per position:
  /// the linear layer's input; the softmax over the E scores (fp32); top-k's k indices
  /// (int64); the sum the k chosen probabilities are divided by and the k quotients, the
  /// routing weights (fp32); and for each expert `torch.where`'s position and slot of every
  /// row routed to it (2 x int64 per routed row), which the gather and the weights' lookup keep.
  mutating func saveRouter(_ node: Node) {
    let id = node.id
    let input = node.inputs.first ?? 0
    keep(input, for: id, "input")
    let positions = rows(input)
    let experts = shapes[id].last ?? 0
    let k = routedExperts[id] ?? 1
    fresh(for: id, "routing probabilities (T x E, fp32)", elements: product([positions, experts]), bytes: routingBytes)
    fresh(for: id, "top-k indices (T x k, int64)", elements: product([positions, k]), bytes: indexBytes)
    fresh(for: id, "top-k sum (fp32)", elements: positions, bytes: routingBytes)
    fresh(for: id, "routing weights (T x k, fp32)", elements: product([positions, k]), bytes: routingBytes)
    fresh(for: id, "position and slot of each routed row (2 x int64)", elements: product([2, positions, k]), bytes: indexBytes)
  }

  /// Mixtral's routed sum as transformers' eager MixtralExperts writes it: each expert's
  /// output is multiplied by its rows' routing weights (the product keeps both) and added
  /// into the result with `index_add_`, which keeps the product (its backward reads the
  /// source's shape); all of it one row per routed row, k per position.
  mutating func saveMixture(_ node: Node) {
    let id = node.id
    guard node.inputs.count == 3 else { return }
    let out = node.inputs[1]
    let routed = product([rows(node.inputs[2]), shapes.nodes[out].activeExperts])
    fresh(for: id, "routing weight of each routed row (fp32)", elements: routed, bytes: routingBytes)
    keep(out, for: id, "expert outputs")
    fresh(
      for: id, "weighted expert outputs (index_add_'s source)", elements: product([elements(out), shapes.nodes[out].activeExperts]),
      bytes: storage.bytes)
  }

  /// Positions of node `id`'s value: its elements over its last extent.
  func rows(_ id: Int) -> Int? {
    guard let n = elements(id), let c = shapes[id].last, c > 0 else { return nil }
    return n / c
  }

  /// Eager attention as Hugging Face writes it (GPT-2's and BERT's `eager`): the
  /// projections' input, the queries, keys and values, the softmax's T x S probabilities
  /// per head (kept by both products), the heads merged for the output projection, and
  /// for GPT-2 (causal, no `rope`) the keys and values as its KV cache copies them. A fused kernel (SDPA, torchvision's
  /// MultiheadAttention) keeps the output and a log-sum-exp per row instead of the
  /// probabilities: not what is counted here.
  mutating func saveAttention(_ node: Node) {
    let id = node.id
    let r = shapes.nodes[id]
    keep(node.inputs.first ?? 0, for: id, "input")
    if let memory = node.inputs.dropFirst().first { keep(memory, for: id, "keys' and values' input") }
    let t = shapes[id].first ?? 0
    // With `rope`, Hugging Face's Llama eager attention: keys and values repeated to every
    // query head (`repeat_kv`), the causal mask added (nothing kept for it), and the
    // rotation's cos and sin tables (T x D each, one for the whole batch and every layer).
    let rotary = node.attributes.rotary
    let queries = product([t, r.heads, r.headDim])
    let keysValues = product([2, r.memoryLength, rotary ? r.heads : r.kvHeads, r.headDim])
    guard let q = queries, let kv = keysValues else { return overflow = true }
    fresh(for: id, "queries, keys and values", elements: q.addingReportingOverflow(kv).overflow ? nil : q + kv, bytes: storage.bytes)
    fresh(for: id, "probabilities (H x T x S)", elements: product([r.heads, t, r.memoryLength]), bytes: storage.bytes)
    // A causal model without `rope` is GPT-2's: transformers runs its decoder with a KV
    // cache even in training (`use_cache` is on by default), and the products read the
    // keys and values from the cache's concatenation, a contiguous copy of each, which they
    // keep; GPT-2's one fused projection is kept whole for the queries, so the copies are
    // more. (With `rope` the cache's copies are read only by `repeat_kv`, which keeps
    // nothing; an encoder-decoder's decoder is BART's, whose separate projections' keys and
    // values are kept by nobody but the cache's concatenation, so the copies replace them.)
    if node.attributes.causal && !rotary && !encoderDecoder {
      fresh(
        for: id, "keys and values as the KV cache copies them (2 x S x kv heads x D)",
        elements: product([2, r.memoryLength, r.kvHeads, r.headDim]), bytes: storage.bytes)
    }
    fresh(for: id, "merged heads (the output projection's input)", elements: queries, bytes: storage.bytes)
    // The model computes the tables once and hands them to every layer: one storage.
    if rotary, rotaryTables.insert([t, r.headDim]).inserted {
      fresh(for: id, "rotary cos and sin (T x D each)", elements: product([2, t, r.headDim]), bytes: storage.bytes, perExample: false)
    }
  }
}
