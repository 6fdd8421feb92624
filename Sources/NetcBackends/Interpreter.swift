import NetcIR
import NetcPasses

/// Executes a graph on concrete tensors: the forward pass, and reverse-mode gradients.
///
/// `run` is inference: BN normalises with its running mean and variance, and dropout is
/// the identity. Gradients flow through BN's affine transform with those statistics fixed.
public struct Interpreter<T: TensorScalar>: Sendable {
  /// The graph and its shapes.
  public let graph: Graph
  public let shapes: Shapes
  /// Each node's parameters (nil for nodes without any), indexed by node id.
  public internal(set) var parameters: [LayerParameters<T>?]
  /// Worker threads for the kernels.
  public var threads: Int
  let geometry: [ConvGeometry?]
  var packed: [PackedConv<T>?]
  /// The fused steps of `output`, and the buffers it reuses across calls.
  let plan: InferencePlan<T>
  let workspaces = WorkspaceCache<T>()
  /// Per expert of the graph's mixtures, the interpreter that runs that expert's layers
  /// (`expertViews`); empty without mixtures.
  var experts: [Interpreter<T>] = []
  /// A forward-only interpreter's packed last-axis linear weights, by node and kind (an
  /// `EMBED` tied to a packed LINEAR reads its rows there); their `parameters` are nil.
  var linearPanels: [Int: [ParameterKind: PackedLinear]] = [:]

  /// Prepares the graph for execution: resolves window geometry and packs conv weights once.
  /// `graph` is `analyze`'s, with `shortcut: auto` resolved. `forwardOnly` (fp32 on AVX2 or
  /// AVX-512) also packs every last-axis linear weight once, in place of its `[out][in]`
  /// copy (`PackedLinear`): `parameters` then lacks those weights, and `backward` unpacks
  /// them again first. Give the interpreter the only reference to `parameters` (`consume`
  /// them) for each `[out][in]` copy to be freed as it is packed.
  public init(
    graph: Graph, shapes: Shapes, parameters: consuming [LayerParameters<T>?], threads: Int = 1, forwardOnly: Bool = false
  ) {
    precondition(shortcutsResolved(graph), "a backend takes the graph `analyze` resolved, not the spec's")
    // Packing runs over every weight: specialise it too (see `forward`). The bit casts
    // change nothing (T is the type cast to) and, unlike `as!`, make no second array that
    // would keep the weights alive while they are packed.
    if T.self == Float.self {
      let mine = unsafeBitCast(consume parameters, to: [LayerParameters<Float>?].self)
      self = unsafeBitCast(Interpreter<Float>(packing: graph, shapes, mine, threads, forwardOnly: forwardOnly), to: Self.self)
    } else if T.self == Double.self {
      let mine = unsafeBitCast(consume parameters, to: [LayerParameters<Double>?].self)
      self = unsafeBitCast(Interpreter<Double>(packing: graph, shapes, mine, threads, forwardOnly: forwardOnly), to: Self.self)
    } else {
      self.init(packing: graph, shapes, parameters, threads, forwardOnly: forwardOnly)
    }
  }

  /// Whether the interpreter runs `op`; `unexecutable` turns a refusal into a diagnostic
  /// before any execution starts.
  public static func executes(_ op: OpKind) -> Bool {
    switch op {
    case .input, .conv, .dwconv, .pwconv, .maxpool, .avgpool, .gap, .gmp, .fc, .flatten, .bn, .relu, .relu6, .sigmoid, .tanh,
      .softmax, .gelu, .identity, .leakyrelu, .dropout, .add, .concat:
      true
    case .linear, .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid, .droppath, .layerscale, .embed, .posembed, .typeembed,
      .clstoken, .tokens, .take, .upsample, .pad, .shuffle, .mul, .slice, .attention, .deconv:
      true
    case .router, .moe:
      true
    }
  }

  init(packing graph: Graph, _ shapes: Shapes, _ parameters: consuming [LayerParameters<T>?], _ threads: Int, forwardOnly: Bool) {
    self.graph = graph
    self.shapes = shapes
    self.parameters = sharingTiedWeights(graph, consume parameters)
    self.threads = threads
    if forwardOnly && T.self == Float.self && PackedLinear.available {
      linearPanels = PackedLinear.pack(graph, shapes, &self.parameters, threads: threads)
    }
    var geometry: [ConvGeometry?] = []
    var packed: [PackedConv<T>?] = []
    for node in graph.nodes {
      let r = shapes.nodes[node.id]
      guard let window = r.window, let input = node.inputs.first else {
        geometry.append(nil)
        packed.append(nil)
        continue
      }
      let g =
        node.op == .deconv
        ? TransposedConv.geometry(r, inShape: shapes[input])
        : ConvGeometry(
          inShape: shapes[input], outShape: r.shape, window: window,
          inChannels: r.inChannels, outChannels: r.outChannels, groups: r.groups)
      geometry.append(g)
      // An expert's convs are packed per expert, in its view.
      if node.op.isConvolution || node.op == .deconv, shapes.nodes[node.id].experts == 1, let w = self.parameters[node.id]?.weight {
        packed.append(PackedConv(weight: w.data, geometry: g))
      } else {
        packed.append(nil)
      }
    }
    self.geometry = geometry
    self.packed = packed
    plan = InferencePlan(graph: graph, shapes: shapes, parameters: self.parameters, geometry: geometry, packed: packed)
    experts = expertViews()
  }

  // The public entry points hand a concrete Interpreter<Float> or <Double> to the generic
  // implementation: inside this module the optimizer then specialises every kernel, which
  // it cannot do for a generic call from another module (unspecialised, every scalar
  // operation goes through a witness table).

  /// Every node's output for `input` (whose shape must be the graph's input shape) and,
  /// in a spec with several inputs, `others`: the other inputs by their nodes' ids.
  public func forward(_ input: Tensor<T>, others: [Int: Tensor<T>] = [:]) -> [Tensor<T>] {
    if T.self == Float.self {
      return (self as! Interpreter<Float>).forwardImpl(input as! Tensor<Float>, others: others as! [Int: Tensor<Float>]) as! [Tensor<T>]
    }
    if T.self == Double.self {
      return (self as! Interpreter<Double>).forwardImpl(input as! Tensor<Double>, others: others as! [Int: Tensor<Double>])
        as! [Tensor<T>]
    }
    return forwardImpl(input, others: others)
  }

  /// The output for several inputs (`forward`'s `others`): the unfused pass, whose values
  /// the fused one would not know where to find.
  public func output(_ input: Tensor<T>, others: [Int: Tensor<T>]) -> Tensor<T> {
    others.isEmpty ? output(input) : forward(input, others: others)[graph.outputID]
  }

  /// Only the output: the fused steps of `InferencePlan` (BN folded into convs, so the
  /// output may differ from `forward`'s in the last bits), each activation's buffer reused
  /// once nothing else reads it.
  public func output(_ input: Tensor<T>) -> Tensor<T> {
    output(input, stepSeconds: nil)
  }

  /// `output`, adding each step's wall time in seconds to `stepSeconds[s]` (one entry per
  /// `steps` element) when given.
  public func output(_ input: Tensor<T>, stepSeconds: UnsafeMutablePointer<Double>?) -> Tensor<T> {
    if T.self == Float.self {
      return (self as! Interpreter<Float>).outputImpl(input as! Tensor<Float>, stepSeconds) as! Tensor<T>
    }
    if T.self == Double.self {
      return (self as! Interpreter<Double>).outputImpl(input as! Tensor<Double>, stepSeconds) as! Tensor<T>
    }
    return outputImpl(input, stepSeconds)
  }

  /// `output` in a fresh workspace that records what it takes: the arena it allocated,
  /// every value's offset and size, reads of overwritten values, and the arrays the
  /// layers run on arrays hold outside the arena.
  public func outputMeasuringWorkspace(_ input: Tensor<T>) -> (output: Tensor<T>, usage: WorkspaceUsage) {
    let workspace = Workspace<T>()
    workspace.usage = WorkspaceUsage()
    let y = input.data.withUnsafeBufferPointer { outputImpl(input: $0, nil, workspace: workspace) }
    return (y, workspace.usage!)
  }

  /// The offset planner's figures for the arena `output` uses (its schedule: the input read
  /// in place at step 0, step s + 1 runs `steps[s]`; bytes of `T`).
  public var outputMemory: ActivationMemory { plan.memory! }

  /// The steps of `output` in order: per step the node it evaluates and the nodes fused
  /// into it (a folded BN, a residual ADD, an activation).
  public var steps: [(node: Int, fused: [Int])] { plan.steps.map { ($0.node, $0.fused) } }

  /// Gradients of a scalar loss, given dL/d(output): per node the parameter gradients, and
  /// the input's gradient.
  public func backward(_ values: [Tensor<T>], outputGradient: Tensor<T>) -> Gradients<T> {
    if T.self == Float.self {
      return (self as! Interpreter<Float>).backwardImpl(values as! [Tensor<Float>], outputGradient: outputGradient as! Tensor<Float>)
        as! Gradients<T>
    }
    if T.self == Double.self {
      return (self as! Interpreter<Double>).backwardImpl(values as! [Tensor<Double>], outputGradient: outputGradient as! Tensor<Double>)
        as! Gradients<T>
    }
    return backwardImpl(values, outputGradient: outputGradient)
  }

  func forwardImpl(_ input: Tensor<T>, _ stepSeconds: UnsafeMutablePointer<Double>? = nil, others: [Int: Tensor<T>] = [:])
    -> [Tensor<T>]
  {
    var values: [Tensor<T>] = []
    values.reserveCapacity(graph.nodes.count)
    // Timed by the step that evaluates each node (`output` of a graph with mixtures).
    var stepOf: [Int: Int] = [:]
    if stepSeconds != nil { for (s, step) in plan.steps.enumerated() { stepOf[step.node] = s } }
    for node in graph.nodes {
      if node.op == .input {
        values.append(node.id == 0 ? input : others[node.id] ?? Tensor(shape: shapes[node.id]))
        continue
      }
      let start = stepSeconds == nil ? 0 : monotonicSeconds()
      let e = expertCount(node.id)
      if e > 1 {
        var data: [T] = []
        for k in 0..<e { data += experts[k].evaluate(node, node.inputs.map { expertPart(values[$0], of: $0, k) }) }
        values.append(Tensor(shape: [e] + shapes[node.id], data: data))
      } else {
        values.append(Tensor(shape: shapes[node.id], data: evaluate(node, node.inputs.map { values[$0] })))
      }
      if let stepSeconds, let s = stepOf[node.id] { stepSeconds[s] += monotonicSeconds() - start }
    }
    return values
  }

  func outputImpl(_ input: Tensor<T>, _ stepSeconds: UnsafeMutablePointer<Double>?) -> Tensor<T> {
    // A mixture's experts hold every expert's value at once: the unfused pass keeps them.
    if !experts.isEmpty { return forwardImpl(input, stepSeconds)[graph.outputID] }
    return input.data.withUnsafeBufferPointer { outputImpl(input: $0, stepSeconds) }
  }

  /// `outputImpl` on the input's own storage: the steps only read their inputs, so the
  /// input is not copied into the workspace (a 224x224x3 image: 0.6 MB per pass).
  func outputImpl(input: UnsafeBufferPointer<T>, _ stepSeconds: UnsafeMutablePointer<Double>?, workspace given: Workspace<T>? = nil)
    -> Tensor<T>
  {
    let workspace = given ?? workspaces.checkOut()
    defer { if given == nil { workspaces.checkIn(workspace) } }
    // Every value at the offset the planner gave it in the arena; identity-like nodes
    // share their input's, a conv writing over its residual takes the residual's.
    let base = workspace.base(plan.arenaElements)
    var at = [UnsafeMutablePointer<T>?](repeating: nil, count: graph.nodes.count)
    at[0] = UnsafeMutablePointer(mutating: input.baseAddress!)
    func tensor(_ id: Int) -> Tensor<T> {
      let shape = shapes[id]
      return Tensor(shape: shape, data: Array(UnsafeBufferPointer(start: at[id]!, count: shape.reduce(1, *))))
    }
    var record = workspace.usage.map { _ in WriteRecord(count: graph.nodes.count) }
    for (s, step) in plan.steps.enumerated() {
      let start = stepSeconds == nil ? 0 : monotonicSeconds()
      defer { if let stepSeconds { stepSeconds[s] += monotonicSeconds() - start } }
      let node = graph.nodes[step.node]
      if step.conv == nil && node.op.traits.contains(.aliasAtInference) {
        at[step.output] = at[node.inputs[0]]
        record?.alias(step.output, of: node.inputs[0])
        continue
      }
      let out = base + plan.offsets[step.output]
      let count = shapes[step.output].reduce(1, *)
      if record != nil { record!.read(step.reads, at: s + 1, over: step.overResidual ? step.conv?.residual : nil) }
      if let conv = step.conv {
        let x = UnsafePointer(at[node.inputs[0]]!)
        let residual = conv.residual.map { UnsafePointer(at[$0]!) }
        func run(_ bias: UnsafePointer<T>?) {
          Kernels.convForward(
            x, geometry[node.id]!, conv.packed, into: out,
            pass: OutputPass(bias: bias, residual: residual, activation: conv.activation), threads: threads)
        }
        if let bias = conv.bias { bias.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
      } else if node.op == .gap || node.op == .gmp {
        // From the input's buffer: `evaluate` would copy the whole input into an array first.
        let c = shapes[node.id].last!
        Kernels.globalPool(
          UnsafePointer(at[node.inputs[0]]!), positions: shapes[node.inputs[0]].reduce(1, *) / c, channels: c,
          max: node.op == .gmp, into: out)
      } else if node.op.isPool {
        Kernels.poolForward(UnsafePointer(at[node.inputs[0]]!), geometry[node.id]!, max: node.op == .maxpool, into: out, threads: threads)
      } else if evaluate(node, reading: node.inputs.map { UnsafePointer(at[$0]!) }, into: out, count: count) {
        // Written in its place.
      } else {
        let inputs = node.inputs.map(tensor)
        let y = evaluate(node, inputs)
        precondition(y.count == count, "\(node.name) wrote \(y.count) values for a planned \(count)")
        _ = UnsafeMutableBufferPointer(start: out, count: count).initialize(from: y)
        if workspace.usage != nil {
          let held = inputs.reduce(y.count) { $0 + $1.count }
          if held > workspace.usage!.heapElements { (workspace.usage!.heapElements, workspace.usage!.heapStep) = (held, s + 1) }
        }
      }
      at[step.output] = out
      record?.write(step.output, offset: plan.offsets[step.output], count: count, at: s + 1)
    }
    if var record {
      record.read([graph.outputID], at: plan.steps.count + 1, over: nil)
      workspace.usage!.writes = record.writes
      workspace.usage!.overwrittenReads = record.overwritten
    }
    return tensor(graph.outputID)
  }

  func evaluate(_ node: Node, _ inputs: [Tensor<T>]) -> [T] {
    let r = shapes.nodes[node.id]
    let x = inputs[0].data
    let p = parameters[node.id]
    switch node.op {
    case .input, .identity, .dropout:
      return x
    case .moe:
      return mixtureForward(node, inputs)
    case .deconv:
      return TransposedConv.forward(x, geometry[node.id]!, packed[node.id]!, bias: p?.bias?.data)
    case .attention:
      return attention(node).forward(x, memory: inputs.count > 1 ? inputs[1].data : x).y
    case .droppath, .tokens:
      // Stochastic depth is the identity at inference; channels-last `HxWxC` already is
      // `(H*W)xC` row by row.
      return x
    case .silu: return GatedActivation.silu(x)
    case .hardswish: return GatedActivation.hardswish(x)
    case .hardsigmoid: return GatedActivation.hardsigmoid(x)
    case .layernorm, .rmsnorm:
      return LastAxisNorm.forward(
        x, channels: r.shape.last!, centered: node.op == .layernorm, eps: T(node.attributes.epsilon), gamma: p!.gamma!.data,
        beta: p?.beta?.data)
    case .layerscale:
      let gamma = p!.gamma!.data, c = gamma.count
      return x.indices.map { x[$0] * gamma[$0 % c] }
    case .linear, .router:
      // A mixture's router is a bias-free linear layer scoring the experts.
      return LastAxisLinear.forward(
        x, linearWeight(node.id, .weight), bias: p?.bias?.data, in: r.inChannels, out: r.outChannels, threads: threads)
    case .embed:
      return Embedding.forward(x, linearWeight(node.id, .weight), width: r.outChannels)
    case .posembed:
      if r.noParameters { return SequenceOps.addRows(x, SequenceOps.sinusoidal(length: r.shape[0], channels: r.shape[1])) }
      return SequenceOps.addRows(x, p!.weight!.data)
    case .typeembed:
      return SequenceOps.addFirstRow(x, p!.weight!.data, channels: r.shape[1])
    case .clstoken:
      return p!.weight!.data + x
    case .take:
      let c = r.shape[0], t = SequenceOps.row(node.attributes.index, length: inputs[0].shape[0])
      return Array(x[(t * c)..<(t * c + c)])
    case .pad:
      return ZeroPad.forward(x, inputs[0].shape, r.shape, begin: ZeroPad.begin(node, inputs[0].shape, r.shape))
    case .upsample:
      return Upsample.forward(x, inputs[0].shape, r.shape, bilinear: node.attributes.upsampleMode == .bilinear)
    case .shuffle:
      return ChannelParts.shuffle(x, channels: r.shape.last!, groups: partCount(node))
    case .slice:
      return ChannelParts.slice(x, channels: inputs[0].shape.last!, part: node.attributes.index, of: partCount(node))
    case .mul:
      return BroadcastProduct.forward(inputs, shape: r.shape)
    case .conv, .dwconv, .pwconv:
      return Kernels.convForward(x, geometry[node.id]!, packed[node.id]!, bias: p?.bias?.data, threads: threads)
    case .maxpool, .avgpool:
      return Kernels.poolForward(x, geometry[node.id]!, max: node.op == .maxpool, threads: threads)
    case .gap, .gmp:
      let c = r.shape.last!
      var y = [T](repeating: 0, count: c)
      x.withUnsafeBufferPointer { xb in
        y.withUnsafeMutableBufferPointer { yb in
          Kernels.globalPool(xb.baseAddress!, positions: x.count / c, channels: c, max: node.op == .gmp, into: yb.baseAddress!)
        }
      }
      return y
    case .fc:
      return Kernels.fcForward(x, p!.weight!.data, bias: p?.bias?.data, out: r.outChannels, threads: threads)
    case .flatten:
      return flatten(x, shape: inputs[0].shape)
    case .bn:
      let (scale, shift) = bnAffine(node)
      var y = x
      let c = scale.count
      y.withUnsafeMutableBufferPointer { yb in
        var i = 0
        while i < yb.count {
          for j in 0..<c { yb[i + j] = yb[i + j] * scale[j] + shift[j] }
          i += c
        }
      }
      return y
    case .relu: return x.map { max($0, 0) }  // NaN stays NaN, as in PyTorch
    case .relu6: return x.map { min(max($0, 0), 6) }
    case .leakyrelu:
      let s = T(node.attributes.slope)
      return x.map { $0 > 0 ? $0 : $0 * s }
    case .sigmoid: return x.map { 1 / (1 + T.exp(-$0)) }
    case .tanh: return x.map { T.tanh($0) }
    case .gelu:
      if node.attributes.tanhApproximation { return GatedActivation.geluTanh(x, threads: threads) }
      return GatedActivation.gelu(x, threads: threads)
    case .softmax:
      return softmax(x, last: r.shape.last!)
    case .add:
      var y = x
      for other in inputs.dropFirst() {
        y.withUnsafeMutableBufferPointer { yb in
          other.data.withUnsafeBufferPointer { ob in
            for i in 0..<yb.count { yb[i] += ob[i] }
          }
        }
      }
      return y
    case .concat:
      let positions = x.count / inputs[0].shape.last!
      var y: [T] = []
      y.reserveCapacity(r.shape.reduce(1, *))
      for q in 0..<positions {
        for t in inputs {
          let c = t.shape.last!
          y.append(contentsOf: t.data[(q * c)..<(q * c + c)])
        }
      }
      return y
    }
  }

  /// BN at inference as a per-channel affine map: scale = gamma / sqrt(var + eps),
  /// shift = beta - mean * scale.
  func bnAffine(_ node: Node) -> (scale: [T], shift: [T]) { batchNormAffine(node, parameters[node.id]!) }

  func backwardImpl(_ values: [Tensor<T>], outputGradient: Tensor<T>) -> Gradients<T> {
    if !linearPanels.isEmpty { return unpackingLinearWeights().backwardImpl(values, outputGradient: outputGradient) }
    var grads: [[T]?] = Array(repeating: nil, count: graph.nodes.count)
    grads[graph.outputID] = outputGradient.data
    var result = Gradients<T>(input: Tensor(shape: shapes[0]), layers: Array(repeating: nil, count: graph.nodes.count))
    /// Adds `dx` into node i's gradient at `offset` (an expert's part), of `count` in all.
    func accumulate(_ i: Int, _ dx: [T], at offset: Int = 0, of count: Int) {
      if grads[i] == nil && offset == 0 && dx.count == count {
        grads[i] = dx
        return
      }
      var existing = grads[i] ?? [T](repeating: 0, count: count)
      for j in 0..<dx.count { existing[offset + j] += dx[j] }
      grads[i] = existing
    }
    // Per expert, every value as that expert's layers see it.
    let expertValues = experts.indices.map { k in values.indices.map { expertPart(values[$0], of: $0, k) } }
    for node in graph.layers.reversed() {
      guard let dy = grads[node.id] else { continue }
      if node.op == .input {
        result.others[node.id] = Tensor(shape: shapes[node.id], data: dy)
        continue
      }
      let e = expertCount(node.id)
      if e > 1 {
        let n = dy.count / e
        var mine: [LayerParameters<T>?] = []
        for k in 0..<e {
          let inputGrads = experts[k].backward(node, expertValues[k], Array(dy[(k * n)..<(k * n + n)]), into: &result)
          mine.append(result.layers[node.id])
          for (i, dx) in zip(node.inputs, inputGrads) {
            let ei = expertCount(i)
            accumulate(i, dx, at: ei > 1 ? k * dx.count : 0, of: ei > 1 ? ei * dx.count : dx.count)
          }
        }
        result.layers[node.id] = stackedExperts(mine)
      } else {
        for (i, dx) in zip(node.inputs, backward(node, values, dy, into: &result)) { accumulate(i, dx, of: dx.count) }
      }
      grads[node.id] = nil
    }
    if let d = grads[0] { result.input = Tensor(shape: shapes[0], data: d) }
    moveTiedGradients(graph, &result.layers)
    return result
  }

  func backward(_ node: Node, _ values: [Tensor<T>], _ dy: [T], into result: inout Gradients<T>) -> [[T]] {
    let r = shapes.nodes[node.id]
    let x = values[node.inputs[0]].data
    let y = values[node.id].data
    switch node.op {
    case .input, .identity, .dropout:
      return [dy]
    case .moe:
      return mixtureBackward(node, values, dy)
    case .deconv:
      let p = parameters[node.id]!
      let (dx, dw, db) = TransposedConv.backward(x, dy, geometry[node.id]!, packed[node.id]!, hasBias: p.bias != nil, threads: threads)
      var lg = parameterGradients([.weight: Tensor(shape: p.weight!.shape, data: dw)])
      if let db { lg.bias = Tensor(shape: [db.count], data: db) }
      result.layers[node.id] = lg
      return [dx]
    case .attention:
      let cross = node.inputs.count > 1
      let a = attention(node), p = parameters[node.id]!
      let (dx, dm, tensors) = a.backward(x, memory: cross ? values[node.inputs[1]].data : x, cross: cross, dy)
      var lg = LayerParameters<T>()
      for (kind, d) in tensors { lg[kind] = Tensor(shape: p[kind]!.shape, data: d) }
      result.layers[node.id] = lg
      return dm.map { [dx, $0] } ?? [dx]
    case .droppath, .tokens:
      return [dy]
    case .silu: return [GatedActivation.siluGradient(x, dy)]
    case .hardswish: return [GatedActivation.hardswishGradient(x, dy)]
    case .hardsigmoid: return [GatedActivation.hardsigmoidGradient(x, dy)]
    case .layernorm, .rmsnorm:
      let p = parameters[node.id]!
      let (dx, dgamma, dbeta) = LastAxisNorm.backward(
        x, dy, channels: r.shape.last!, centered: node.op == .layernorm, eps: T(node.attributes.epsilon), gamma: p.gamma!.data,
        hasBeta: p.beta != nil)
      var lg = LayerParameters<T>()
      lg.gamma = Tensor(shape: [dgamma.count], data: dgamma)
      if let dbeta { lg.beta = Tensor(shape: [dbeta.count], data: dbeta) }
      result.layers[node.id] = lg
      return [dx]
    case .layerscale:
      let gamma = parameters[node.id]!.gamma!.data, c = gamma.count
      var dgamma = [T](repeating: 0, count: c)
      for i in 0..<x.count { dgamma[i % c] += dy[i] * x[i] }
      result.layers[node.id] = parameterGradients([.gamma: Tensor(shape: [c], data: dgamma)])
      return [dy.indices.map { dy[$0] * gamma[$0 % c] }]
    case .linear, .router:
      let p = parameters[node.id]!
      let (dx, dw, db) = LastAxisLinear.backward(x, p.weight!.data, dy, in: r.inChannels, out: r.outChannels)
      var lg = parameterGradients([.weight: Tensor(shape: p.weight!.shape, data: dw)])
      if p.bias != nil { lg.bias = Tensor(shape: [db.count], data: db) }
      result.layers[node.id] = lg
      return [dx]
    case .embed:
      let w = parameters[node.id]!.weight!
      let dw = Embedding.tableGradient(x, dy, width: r.outChannels, tableCount: w.count)
      result.layers[node.id] = parameterGradients([.weight: Tensor(shape: w.shape, data: dw)])
      // Token ids have no gradient; zeros keep the input's slot well formed.
      return [[T](repeating: 0, count: x.count)]
    case .posembed:
      if let w = parameters[node.id]?.weight {
        result.layers[node.id] = parameterGradients([
          .weight: Tensor(shape: w.shape, data: SequenceOps.rowsGradient(dy, tableCount: w.count))
        ])
      }
      return [dy]
    case .typeembed:
      let w = parameters[node.id]!.weight!
      let dw = SequenceOps.firstRowGradient(dy, channels: r.shape[1], tableCount: w.count)
      result.layers[node.id] = parameterGradients([.weight: Tensor(shape: w.shape, data: dw)])
      return [dy]
    case .clstoken:
      let c = r.shape[1]
      result.layers[node.id] = parameterGradients([.weight: Tensor(shape: [c], data: Array(dy[0..<c]))])
      return [Array(dy[c...])]
    case .take:
      let c = r.shape[0], t = SequenceOps.row(node.attributes.index, length: values[node.inputs[0]].shape[0])
      var dx = [T](repeating: 0, count: x.count)
      for j in 0..<c { dx[t * c + j] = dy[j] }
      return [dx]
    case .pad:
      let inShape = values[node.inputs[0]].shape
      return [ZeroPad.backward(dy, inShape, r.shape, begin: ZeroPad.begin(node, inShape, r.shape))]
    case .upsample:
      return [Upsample.backward(dy, values[node.inputs[0]].shape, r.shape, bilinear: node.attributes.upsampleMode == .bilinear)]
    case .shuffle:
      return [ChannelParts.unshuffle(dy, channels: r.shape.last!, groups: partCount(node))]
    case .slice:
      return [ChannelParts.unslice(dy, channels: values[node.inputs[0]].shape.last!, part: node.attributes.index, of: partCount(node))]
    case .mul:
      return BroadcastProduct.backward(node.inputs.map { values[$0] }, dy, shape: r.shape)
    case .conv, .dwconv, .pwconv:
      let p = parameters[node.id]!
      let (dx, dw, db) = Kernels.convBackward(x, dy, geometry[node.id]!, packed[node.id]!, hasBias: p.bias != nil)
      var lg = LayerParameters<T>()
      lg.weight = Tensor(shape: p.weight!.shape, data: dw)
      if let db { lg.bias = Tensor(shape: [db.count], data: db) }
      result.layers[node.id] = lg
      return [dx]
    case .maxpool, .avgpool:
      return [Kernels.poolBackward(x, dy, geometry[node.id]!, max: node.op == .maxpool)]
    case .gap:
      let c = r.shape.last!, positions = x.count / c
      return [(0..<x.count).map { dy[$0 % c] / T(positions) }]
    case .gmp:
      let c = r.shape.last!, positions = x.count / c
      var dx = [T](repeating: 0, count: x.count)
      for j in 0..<c {
        var at = 0
        for q in 0..<positions where x[q * c + j] > x[at * c + j] { at = q }
        dx[at * c + j] = dy[j]
      }
      return [dx]
    case .fc:
      let p = parameters[node.id]!
      let w = p.weight!.data, n = x.count, m = r.outChannels
      var dw = [T](repeating: 0, count: m * n), dx = [T](repeating: 0, count: n)
      for o in 0..<m {
        for i in 0..<n {
          dw[o * n + i] = dy[o] * x[i]
          dx[i] += w[o * n + i] * dy[o]
        }
      }
      var lg = LayerParameters<T>()
      lg.weight = Tensor(shape: [m, n], data: dw)
      if p.bias != nil { lg.bias = Tensor(shape: [m], data: dy) }
      result.layers[node.id] = lg
      return [dx]
    case .flatten:
      return [unflatten(dy, shape: values[node.inputs[0]].shape)]
    case .bn:
      let (scale, _) = bnAffine(node)
      let p = parameters[node.id]!
      let c = scale.count, eps = T(node.attributes.epsilon)
      var dgamma = [T](repeating: 0, count: c), dbeta = dgamma
      var dx = dy
      for i in 0..<x.count {
        let j = i % c
        let normalized = (x[i] - p.mean!.data[j]) / T.sqrt(p.variance!.data[j] + eps)
        dgamma[j] += dy[i] * normalized
        dbeta[j] += dy[i]
        dx[i] = dy[i] * scale[j]
      }
      var lg = LayerParameters<T>()
      lg.gamma = Tensor(shape: [c], data: dgamma)
      lg.beta = Tensor(shape: [c], data: dbeta)
      result.layers[node.id] = lg
      return [dx]
    case .relu: return [zip(x, dy).map { $0 > 0 ? $1 : 0 }]
    case .relu6: return [zip(x, dy).map { $0 > 0 && $0 < 6 ? $1 : 0 }]
    case .leakyrelu:
      let s = T(node.attributes.slope)
      return [zip(x, dy).map { $0 > 0 ? $1 : $1 * s }]
    case .sigmoid: return [zip(y, dy).map { $1 * $0 * (1 - $0) }]
    case .tanh: return [zip(y, dy).map { $1 * (1 - $0 * $0) }]
    case .gelu where node.attributes.tanhApproximation:
      return [GatedActivation.geluTanhGradient(x, dy)]
    case .gelu:
      // d/dx x*Phi(x) = Phi(x) + x * phi(x).
      let invSqrt2Pi = 1 / T.sqrt(2 * T.pi)
      return [
        zip(x, dy).map { v, g in
          g * ((1 + T.erf(v / T.sqrt(2))) / 2 + v * invSqrt2Pi * T.exp(-v * v / 2))
        }
      ]
    case .softmax:
      let c = r.shape.last!
      var dx = [T](repeating: 0, count: x.count)
      var base = 0
      while base < x.count {
        var dot: T = 0
        for j in 0..<c { dot += y[base + j] * dy[base + j] }
        for j in 0..<c { dx[base + j] = y[base + j] * (dy[base + j] - dot) }
        base += c
      }
      return [dx]
    case .add:
      return node.inputs.map { _ in dy }
    case .concat:
      let ins = node.inputs.map { values[$0] }
      let positions = x.count / ins[0].shape.last!
      var out = ins.map { [T](repeating: 0, count: $0.count) }
      var offset = 0
      for q in 0..<positions {
        for (k, t) in ins.enumerated() {
          let c = t.shape.last!
          for j in 0..<c { out[k][q * c + j] = dy[offset + j] }
          offset += c
        }
      }
      return out
    }
  }
}

/// Gradients of a loss: the input's, and each node's parameter gradients.
public struct Gradients<T: TensorScalar>: Sendable {
  /// dL/d(input), in the input's shape.
  public var input: Tensor<T>
  /// In a spec with several inputs, dL/d of the others, by their nodes' ids (an input no
  /// gradient reaches is left out).
  public var others: [Int: Tensor<T>] = [:]
  /// Per node id: dL/d(weight), d(bias), d(gamma), d(beta); nil for nodes without parameters.
  public var layers: [LayerParameters<T>?]
}

/// Channels-last to channel-major: element (position p, channel c) goes to c * P + p, so a
/// flattened `HxWxC` tensor is ordered as PyTorch's flattened `CxHxW`.
func flatten<T>(_ x: [T], shape: [Int]) -> [T] {
  guard shape.count > 1, let c = shape.last, c > 1 else { return x }
  let positions = x.count / c
  var y = x
  for p in 0..<positions { for j in 0..<c { y[j * positions + p] = x[p * c + j] } }
  return y
}

/// The inverse of `flatten`.
func unflatten<T>(_ y: [T], shape: [Int]) -> [T] {
  guard shape.count > 1, let c = shape.last, c > 1 else { return y }
  let positions = y.count / c
  var x = y
  for p in 0..<positions { for j in 0..<c { x[p * c + j] = y[j * positions + p] } }
  return x
}

/// Softmax over groups of `last` consecutive elements, shifted by the maximum for range.
func softmax<T: TensorScalar>(_ x: [T], last c: Int) -> [T] {
  var y = x
  var base = 0
  while base < x.count {
    var m = -T.infinity
    for j in 0..<c { m = max(m, x[base + j]) }
    var s: T = 0
    for j in 0..<c {
      y[base + j] = T.exp(x[base + j] - m)
      s += y[base + j]
    }
    for j in 0..<c { y[base + j] /= s }
    base += c
  }
  return y
}
