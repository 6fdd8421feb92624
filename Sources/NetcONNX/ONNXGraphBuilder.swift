import Foundation
import NetcBackends
import NetcDiagnostics
import NetcIR
import NetcPasses

/// Writes the nodes of one graph: each layer as its ONNX op or a small subgraph of them,
/// its tensors in the layout its op reads (`ONNXLayout`).
struct ONNXGraphBuilder {
  let graph: Graph
  let shapes: Shapes
  /// The bound tensors; while a mixture's experts are written, an expert node's are expert
  /// k's part of its stacked ones (`mixture`).
  var parameters: [LayerParameters<Float>?]
  let symbolic: SymbolicAnalysis?
  /// The default-domain opset the nodes are written for (`ONNXVersion.versions`).
  let opset: Int64
  var nodes: [Onnx_NodeProto] = []
  var initializers: [Onnx_TensorProto] = []
  /// `netc.*` entries of the model's metadata_props, in a fixed order.
  var metadata: [(String, String)] = []
  var names: [String] = []
  private var dimNames: [String] = []
  /// Each node's output layout, by id.
  var layouts: [ONNXLayout] = []
  /// A tensor's Transpose into the other layout, once made.
  var transposed: [Int: String] = [:]
  /// The layout each expert node reads, kept until its mixture writes every expert's copy.
  var expertReads: [Int: ONNXLayout] = [:]
  /// The value_info of every expert's copy of an expert node.
  var expertInfos: [Onnx_ValueInfoProto] = []
  /// The initializer of a tie owner's weight, and whether it is stored `[in][out]`.
  var stored: [Int: (name: String, transposed: Bool)] = [:]

  init(graph: Graph, shapes: Shapes, parameters: [LayerParameters<Float>?], symbolic: SymbolicAnalysis?, opset: Int64) {
    precondition(shortcutsResolved(graph), "a backend takes the graph `analyze` resolved, not the spec's")
    (self.graph, self.shapes) = (graph, shapes)
    self.parameters = parameters
    self.symbolic = symbolic
    self.opset = opset
  }

  mutating func build() throws(DiagnosticError) -> Onnx_GraphProto {
    // A spec's one input is `input`; named inputs keep their names.
    names = graph.nodes.map { $0.op == .input && graph.namedInputs.isEmpty ? "input" : $0.name }
    layouts = [inputLayout(0)]
    metadata.append(("netc.layout", "NCHW: netc's HxWxC is [N, C, H, W], a vector F is [N, F]; sequences TxC are [N, T, C]"))
    metadata.append(("netc.dim.\(ONNXVersion.batch)", "batch"))
    for node in graph.layers {
      if node.op == .input {
        layouts.append(inputLayout(node.id))
        continue
      }
      let wanted = ONNXLayout.wanted(by: node.op) ?? layouts[node.inputs[0]]
      layouts.append(ONNXLayout.written(by: node.op, reading: wanted))
      // An expert's layers are written once per expert, where their mixture sums them.
      if shapes.nodes[node.id].experts > 1 {
        expertReads[node.id] = wanted
        continue
      }
      try emit(node, reading: wanted)
    }
    var g = Onnx_GraphProto()
    g.name = graph.name
    g.node = nodes
    g.initializer = initializers
    g.input = graph.allInputs.map { input in
      var info = valueInfo(input.node)
      if input.tokens { info.type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.int64.rawValue) }
      return info
    }
    g.output = [valueInfo(graph.outputID)]
    g.valueInfo =
      graph.layers.filter { $0.id != graph.outputID && $0.op != .input && shapes.nodes[$0.id].experts == 1 }.map { valueInfo($0.id) }
      + expertInfos
    if let d = graph.description { g.docString = d }
    metadata.append(("netc.layout.input", layouts[0] == .channelsFirst ? "channels first" : "channels last"))
    for input in graph.namedInputs {
      metadata.append(("netc.layout.input.\(input.name)", layouts[input.node] == .channelsFirst ? "channels first" : "channels last"))
    }
    metadata.append(("netc.layout.output", layouts[graph.outputID] == .channelsFirst ? "channels first" : "channels last"))
    for name in dimNames { metadata.append(("netc.dim.\(name)", name)) }
    return g
  }

  /// Token ids, and an input whose first reader wants a sequence, come channels last.
  func inputLayout(_ id: Int) -> ONNXLayout {
    if graph.isTokenInput(id) { return .channelsLast }
    let first = graph.layers.first { $0.inputs.contains(id) }
    return first.flatMap { ONNXLayout.wanted(by: $0.op) } ?? .channelsFirst
  }

  /// The tensor type of node `id`'s output, with the batch and each extent netc knows only
  /// as an expression of free vars as named symbolic dimensions.
  mutating func valueInfo(_ id: Int) -> Onnx_ValueInfoProto {
    let concrete = shapes[id]
    let exprs = symbolic?.nodes[id].shape
    func dim(_ axis: Int) -> Onnx_TensorShapeProto.Dimension {
      var d = Onnx_TensorShapeProto.Dimension()
      if let e = exprs?[axis], e.constant == nil {
        let name = e.description
        if !dimNames.contains(name) { dimNames.append(name) }
        d.dimParam = name
      } else {
        d.dimValue = Int64(concrete[axis])
      }
      return d
    }
    var batch = Onnx_TensorShapeProto.Dimension()
    batch.dimParam = ONNXVersion.batch
    var shape = Onnx_TensorShapeProto()
    shape.dim = [batch] + layouts[id].order(Array(concrete.indices)).map(dim)
    var tensor = Onnx_TypeProto.Tensor()
    tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    tensor.shape = shape
    var type = Onnx_TypeProto()
    type.tensorType = tensor
    var info = Onnx_ValueInfoProto()
    info.name = names[id]
    info.type = type
    return info
  }

  /// Node `id`'s output in `layout`: the tensor itself, or its Transpose (one per tensor).
  mutating func value(_ id: Int, _ layout: ONNXLayout) -> String {
    let rank = shapes[id].count
    if layouts[id] == layout || rank <= 1 { return names[id] }
    if let t = transposed[id] { return t }
    let t = "\(names[id])/\(layout == .channelsFirst ? "nchw" : "nhwc")"
    step("Transpose", [names[id]], t, [.ints("perm", layouts[id].perm(to: layout, rank: rank))])
    transposed[id] = t
    return t
  }

  mutating func emit(_ node: Node, reading layout: ONNXLayout) throws(DiagnosticError) {
    let r = shapes.nodes[node.id]
    // A mixture reads its experts' copies, not the nodes they stand for.
    let inputs = node.op == .moe ? [] : node.inputs.map { value($0, layout) }
    let out = names[node.id]
    let inRank = shapes[node.inputs[0]].count
    let channelAxis = layout.channelAxis(rank: max(inRank, 1))
    switch node.op {
    case .input:
      return
    case .conv, .dwconv, .pwconv:
      let w = r.window!
      var args = [inputs[0], weight(node, .weight)]
      if let b = parameters[node.id]?.bias { args.append(tensor("\(node.name).bias", b)) }
      add(
        "Conv", node, args, out,
        [
          .ints("kernel_shape", w.kernel), .ints("strides", w.stride), .ints("pads", w.padBegin + w.padEnd),
          .ints("dilations", w.dilation), .int("group", r.groups),
        ])
    case .maxpool:
      let w = r.window!
      add(
        "MaxPool", node, inputs, out,
        [
          .ints("kernel_shape", w.kernel), .ints("strides", w.stride), .ints("pads", w.padBegin + w.padEnd),
          .ints("dilations", w.dilation), .int("ceil_mode", w.rounding == .ceil ? 1 : 0),
        ])
    case .avgpool:
      // netc divides by the taps inside the padded input, as PyTorch's count_include_pad
      // (and ONNX Runtime's with dilations: the dilated taps inside it).
      let w = r.window!
      let dilated = w.dilation.contains { $0 != 1 }
      add(
        "AveragePool", node, inputs, out,
        [
          .ints("kernel_shape", w.kernel), .ints("strides", w.stride), .ints("pads", w.padBegin + w.padEnd),
          .int("ceil_mode", w.rounding == .ceil ? 1 : 0), .int("count_include_pad", 1),
        ] + (dilated ? [.ints("dilations", w.dilation)] : []))
    case .gap:
      add("GlobalAveragePool", node, inputs, out)
    case .gmp:
      add("GlobalMaxPool", node, inputs, out)
    case .fc:
      var args = [inputs[0], weight(node, .weight)]
      if let b = parameters[node.id]?.bias { args.append(tensor("\(node.name).bias", b)) }
      // The weight is [out][in], as PyTorch's.
      add("Gemm", node, args, out, [.int("transB", 1)])
      stored[node.id] = (args[1], transposed: false)
    case .flatten:
      // netc flattens channel-major, which is Flatten(axis=1) of NCHW.
      add(inRank > 1 ? "Flatten" : "Identity", node, inputs, out, inRank > 1 ? [.int("axis", 1)] : [])
    case .bn:
      add(
        "BatchNormalization", node,
        [inputs[0], weight(node, .gamma), weight(node, .beta), weight(node, .mean), weight(node, .variance)], out,
        [.float("epsilon", node.attributes.epsilon)])
    case .relu:
      add("Relu", node, inputs, out)
    case .relu6:
      add("Clip", node, [inputs[0], scalar("\(node.name).min", 0), scalar("\(node.name).max", 6)], out)
    case .sigmoid:
      add("Sigmoid", node, inputs, out)
    case .tanh:
      add("Tanh", node, inputs, out)
    case .leakyrelu:
      add("LeakyRelu", node, inputs, out, [.float("alpha", node.attributes.slope)])
    case .softmax:
      add("Softmax", node, inputs, out, [.int("axis", channelAxis)])
    case .hardswish:
      add("HardSwish", node, inputs, out)
    case .hardsigmoid:
      add("HardSigmoid", node, inputs, out, [.float("alpha", 1.0 / 6), .float("beta", 0.5)])
    case .silu:
      let s = "\(node.name)/sigmoid"
      add("Sigmoid", node, inputs, s, name: s)
      add("Mul", node, [inputs[0], s], out)
    case .gelu:
      try gelu(node, inputs[0], out)
    case .identity, .dropout, .droppath:
      add("Identity", node, inputs, out)
    case .add:
      add(inputs.count == 2 ? "Add" : "Sum", node, inputs, out)
    case .concat:
      add("Concat", node, inputs, out, [.int("axis", channelAxis)])
    case .mul:
      mul(node, layout, out)
    case .slice:
      let c = shapes[node.inputs[0]].last!, parts = node.attributes.count?.expr.constant ?? 1, w = c / parts
      let start = node.attributes.index * w
      add(
        "Slice", node,
        [
          inputs[0], ints("\(node.name).starts", [start]), ints("\(node.name).ends", [start + w]),
          ints("\(node.name).axes", [channelAxis]),
        ],
        out)
    case .deconv:
      // ONNX's output_padding is what netc's extents add past the transposed window.
      let w = r.window!
      let inSpatial = Array(shapes[node.inputs[0]].dropLast()), outSpatial = Array(r.shape.dropLast())
      let outputPadding = inSpatial.indices.map { a in
        outSpatial[a] - (w.stride[a] * (inSpatial[a] - 1) + w.dilation[a] * (w.kernel[a] - 1) + 1 - w.padBegin[a] - w.padEnd[a])
      }
      var args = [inputs[0], weight(node, .weight)]
      if let b = parameters[node.id]?.bias { args.append(tensor("\(node.name).bias", b)) }
      add(
        "ConvTranspose", node, args, out,
        [
          .ints("kernel_shape", w.kernel), .ints("strides", w.stride), .ints("pads", w.padBegin + w.padEnd),
          .ints("dilations", w.dilation), .int("group", r.groups), .ints("output_padding", outputPadding),
        ])
    case .linear:
      try linear(node, inputs[0], layout, out)
    case .layernorm:
      let p = parameters[node.id]!
      var args = [inputs[0], tensor("\(node.name).gamma", p.gamma!)]
      if let b = p.beta { args.append(tensor("\(node.name).beta", b)) }
      let eps = Attribute.float("epsilon", node.attributes.epsilon)
      if inRank == 1 || layout == .channelsLast {
        add("LayerNormalization", node, args, out, [.int("axis", -1), eps])
      } else {
        // LayerNormalization normalises trailing axes: channels first is moved channels
        // last and back.
        let last = [0] + Array(2...inRank) + [1], back = [0, inRank] + Array(1..<inRank)
        step("Transpose", [inputs[0]], "\(node.name)/nhwc", [.ints("perm", last)])
        args[0] = "\(node.name)/nhwc"
        step("LayerNormalization", args, "\(node.name)/norm", [.int("axis", -1), eps])
        add("Transpose", node, ["\(node.name)/norm"], out, [.ints("perm", back)])
      }
    case .rmsnorm:
      rmsNorm(node, inputs[0], channelAxis: channelAxis, rank: inRank, out)
    case .layerscale:
      // γ of [C] broadcast over the axes that follow the channels.
      let g = parameters[node.id]!.gamma!
      let trailing = [Int](repeating: 1, count: inRank - channelAxis)
      add("Mul", node, [inputs[0], tensor("\(node.name).gamma", Tensor(shape: g.shape + trailing, data: g.data))], out)
    case .embed:
      let table = weight(node, .weight)
      stored[node.id] = (table, transposed: false)
      add("Gather", node, [table, inputs[0]], out, [.int("axis", 0)])
    case .posembed:
      positionEmbedding(node, inputs[0], out)
    case .typeembed:
      // Every token is of type 0 (the run takes no type ids): row 0 is added.
      let table = weight(node, .weight)
      step("Gather", [table, intScalar("\(node.name).type", 0)], "\(node.name)/row", [.int("axis", 0)])
      add("Add", node, [inputs[0], "\(node.name)/row"], out)
    case .clstoken:
      classToken(node, inputs[0], out)
    case .tokens:
      tokens(node, node.inputs[0], out)
    case .take:
      add("Gather", node, [inputs[0], intScalar("\(node.name).index", node.attributes.index)], out, [.int("axis", 1)])
    case .attention:
      try attention(node, inputs, out)
    case .upsample:
      upsample(node, inputs[0], out)
    case .pad:
      pad(node, inputs[0], out)
    case .shuffle:
      shuffle(node, inputs[0], channelAxis: channelAxis, out)
    case .router:
      try linear(node, inputs[0], layout, out)
    case .moe:
      try mixture(node, out)
    }
  }

  /// The error for a layer that export cannot write in this form.
  func refusal(_ node: Node, _ what: String) -> DiagnosticError {
    DiagnosticError([.error(.notExecutable, "`netc export --to onnx` cannot express \(what) yet: `\(node.name)`", at: node.headRange)])
  }

  /// GELU, as opset 17 has no Gelu op: x * (1 + erf(x / sqrt 2)) / 2, or the tanh form
  /// x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) / 2.
  mutating func gelu(_ node: Node, _ x: String, _ out: String) throws(DiagnosticError) {
    let p = node.name
    let inner: String
    if node.attributes.tanhApproximation {
      add("Mul", node, [x, x], "\(p)/x2", name: "\(p)/x2")
      add("Mul", node, ["\(p)/x2", x], "\(p)/x3", name: "\(p)/x3")
      add("Mul", node, ["\(p)/x3", scalar("\(p).c", 0.044715)], "\(p)/cx3", name: "\(p)/cx3")
      add("Add", node, [x, "\(p)/cx3"], "\(p)/poly", name: "\(p)/poly")
      add("Mul", node, ["\(p)/poly", scalar("\(p).k", (2 / Double.pi).squareRoot())], "\(p)/arg", name: "\(p)/arg")
      add("Tanh", node, ["\(p)/arg"], "\(p)/t", name: "\(p)/t")
      inner = "\(p)/t"
    } else {
      add("Div", node, [x, scalar("\(p).sqrt2", 2.0.squareRoot())], "\(p)/scaled", name: "\(p)/scaled")
      add("Erf", node, ["\(p)/scaled"], "\(p)/erf", name: "\(p)/erf")
      inner = "\(p)/erf"
    }
    add("Add", node, [inner, scalar("\(p).one", 1)], "\(p)/onep", name: "\(p)/onep")
    add("Mul", node, [x, "\(p)/onep"], "\(p)/xonep", name: "\(p)/xonep")
    add("Mul", node, ["\(p)/xonep", scalar("\(p).half", 0.5)], out)
  }

  /// An attribute of a node.
  enum Attribute {
    case int(String, Int)
    case ints(String, [Int])
    case float(String, Double)
    case string(String, String)
    case tensor(String, Onnx_TensorProto)
  }

  /// Appends the node that writes layer `layer`'s output, named after the layer unless
  /// `name` is given.
  mutating func add(
    _ opType: String, _ layer: Node, _ inputs: [String], _ output: String, _ attributes: [Attribute] = [], name: String? = nil
  ) {
    step(opType, inputs, output, attributes, name: name ?? layer.name)
  }

  /// Appends a node; a subgraph's inner steps are named after their output, `LAYER/step`.
  mutating func step(_ opType: String, _ inputs: [String], _ output: String, _ attributes: [Attribute] = [], name: String? = nil) {
    var n = Onnx_NodeProto()
    n.opType = opType
    n.name = name ?? output
    n.input = inputs
    n.output = [output]
    n.attribute = attributes.map { a in
      var p = Onnx_AttributeProto()
      switch a {
      case .int(let key, let v):
        p.name = key
        p.type = .int
        p.i = Int64(v)
      case .ints(let key, let v):
        p.name = key
        p.type = .ints
        p.ints = v.map(Int64.init)
      case .float(let key, let v):
        p.name = key
        p.type = .float
        p.f = Float(v)
      case .string(let key, let v):
        p.name = key
        p.type = .string
        p.s = Data(v.utf8)
      case .tensor(let key, let v):
        p.name = key
        p.type = .tensor
        p.t = v
      }
      return p
    }
    nodes.append(n)
  }

  /// The initializer of a layer's parameter, named `LAYER.KIND`.
  mutating func weight(_ node: Node, _ kind: ParameterKind) -> String {
    tensor("\(node.name).\(kind.rawValue)", parameters[node.id]![kind]!)
  }

  /// Adds a float initializer, its data little-endian raw bytes; returns its name.
  mutating func tensor(_ name: String, _ t: Tensor<Float>) -> String {
    var p = Onnx_TensorProto()
    p.name = name
    p.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    p.dims = t.shape.map(Int64.init)
    #if _endian(little)
      p.rawData = t.data.withUnsafeBytes { Data($0) }
    #else
      var bytes = [UInt8]()
      bytes.reserveCapacity(t.data.count * 4)
      for v in t.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
      p.rawData = Data(bytes)
    #endif
    initializers.append(p)
    return name
  }

  /// A float scalar initializer.
  mutating func scalar(_ name: String, _ v: Double) -> String {
    tensor(name, Tensor(shape: [], data: [Float(v)]))
  }

  /// An int64 vector initializer (Slice's starts, ends and axes, Reshape's shape).
  mutating func ints(_ name: String, _ v: [Int]) -> String {
    initializers.append(int64Tensor(name, v, dims: [v.count]))
    return name
  }

  /// An int64 scalar initializer (Gather's index).
  mutating func intScalar(_ name: String, _ v: Int) -> String {
    initializers.append(int64Tensor(name, [v], dims: []))
    return name
  }

  func int64Tensor(_ name: String, _ v: [Int], dims: [Int]) -> Onnx_TensorProto {
    var p = Onnx_TensorProto()
    p.name = name
    p.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    p.dims = dims.map(Int64.init)
    p.int64Data = v.map(Int64.init)
    return p
  }
}
