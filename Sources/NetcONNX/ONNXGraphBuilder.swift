import Foundation
import NetcBackends
import NetcDiagnostics
import NetcIR
import NetcPasses

/// Writes the nodes of one graph. netc's tensors are channels last without a batch
/// (`HxWxC`, a vector `F`); ONNX's here are `[N, C, H, W]` and `[N, F]`, so channel axes
/// map to axis 1 and spatial axes follow it.
struct ONNXGraphBuilder {
  let graph: Graph
  let shapes: Shapes
  let parameters: [LayerParameters<Float>?]
  let symbolic: SymbolicAnalysis?
  var nodes: [Onnx_NodeProto] = []
  var initializers: [Onnx_TensorProto] = []
  /// `netc.*` entries of the model's metadata_props, in a fixed order.
  var metadata: [(String, String)] = []
  private var names: [String] = []
  private var dimNames: [String] = []

  init(graph: Graph, shapes: Shapes, parameters: [LayerParameters<Float>?], symbolic: SymbolicAnalysis?) {
    // Backends run what `shortcut: auto` resolved to, never an elided projection.
    (self.graph, self.shapes) = resolveShortcuts(graph, shapes)
    self.parameters = parameters
    self.symbolic = symbolic
  }

  mutating func build() throws(DiagnosticError) -> Onnx_GraphProto {
    names = graph.nodes.map { $0.op == .input ? "input" : $0.name }
    metadata.append(("netc.layout", "NCHW: netc's HxWxC is [N, C, H, W], a vector F is [N, F]"))
    metadata.append(("netc.dim.\(ONNXVersion.batch)", "batch"))
    for node in graph.layers { try emit(node) }
    var g = Onnx_GraphProto()
    g.name = graph.name
    g.node = nodes
    g.initializer = initializers
    g.input = [valueInfo(0)]
    g.output = [valueInfo(graph.outputID)]
    g.valueInfo = graph.layers.filter { $0.id != graph.outputID }.map { valueInfo($0.id) }
    if let d = graph.description { g.docString = d }
    for name in dimNames { metadata.append(("netc.dim.\(name)", name)) }
    return g
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
    var dims = [batch]
    let r = concrete.count
    if r == 1 {
      dims.append(dim(0))
    } else if r > 1 {
      dims.append(dim(r - 1))
      for a in 0..<(r - 1) { dims.append(dim(a)) }
    }
    var shape = Onnx_TensorShapeProto()
    shape.dim = dims
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

  mutating func emit(_ node: Node) throws(DiagnosticError) {
    let r = shapes.nodes[node.id]
    let inputs = node.inputs.map { names[$0] }
    let out = names[node.id]
    let inRank = shapes[node.inputs[0]].count
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
      // netc divides by the taps inside the padded input, as PyTorch's count_include_pad.
      let w = r.window!
      add(
        "AveragePool", node, inputs, out,
        [
          .ints("kernel_shape", w.kernel), .ints("strides", w.stride), .ints("pads", w.padBegin + w.padEnd),
          .int("ceil_mode", w.rounding == .ceil ? 1 : 0), .int("count_include_pad", 1),
        ])
    case .gap:
      add("GlobalAveragePool", node, inputs, out)
    case .gmp:
      add("GlobalMaxPool", node, inputs, out)
    case .fc:
      var args = [inputs[0], weight(node, .weight)]
      if let b = parameters[node.id]?.bias { args.append(tensor("\(node.name).bias", b)) }
      // The weight is [out][in], as PyTorch's.
      add("Gemm", node, args, out, [.int("transB", 1)])
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
      // Over netc's last axis: the channels, axis 1 here.
      add("Softmax", node, inputs, out, [.int("axis", 1)])
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
      add("Concat", node, inputs, out, [.int("axis", 1)])
    case .mul:
      // ONNX broadcasts from the last axis of [N, C, H, W]; netc from channels. Equal
      // ranks broadcast the same in both (1x1xC against HxWxC is [N,C,1,1] on [N,C,H,W]).
      let ranks = Set(node.inputs.map { shapes[$0].count })
      guard ranks.count == 1 else {
        throw DiagnosticError([
          .error(
            .notExecutable,
            "`netc export --to onnx` cannot express MUL of tensors of different ranks yet: `\(node.name)` (\(node.inputs.map { formatShape(shapes[$0]) }.joined(separator: " * ")))",
            at: node.headRange)
        ])
      }
      var acc = inputs[0]
      for (k, other) in inputs.dropFirst().enumerated() {
        let target = k == inputs.count - 2 ? out : "\(node.name)/mul\(k)"
        add("Mul", node, [acc, other], target, name: target)
        acc = target
      }
    case .slice:
      let c = shapes[node.inputs[0]].last!, parts = node.attributes.count?.expr.constant ?? 1, w = c / parts
      let start = node.attributes.index * w
      add(
        "Slice", node,
        [inputs[0], ints("\(node.name).starts", [start]), ints("\(node.name).ends", [start + w]), ints("\(node.name).axes", [1])],
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
      let p = parameters[node.id]
      guard node.attributes.tiedTo == nil, let wt = p?.weight else { throw refusal(node, "a LINEAR that shares a weight (`tie`)") }
      var args = [inputs[0]]
      if inRank == 1 {
        args.append(tensor("\(node.name).weight", wt))
        if let b = p?.bias { args.append(tensor("\(node.name).bias", b)) }
        add("Gemm", node, args, out, [.int("transB", 1)])
      } else {
        // Over channels, which are axis 1 here: a 1x1 conv, its weight [out][in][1...].
        let ones = [Int](repeating: 1, count: inRank - 1)
        args.append(tensor("\(node.name).weight", Tensor(shape: wt.shape + ones, data: wt.data)))
        if let b = p?.bias { args.append(tensor("\(node.name).bias", b)) }
        add("Conv", node, args, out, [.ints("kernel_shape", ones)])
      }
    case .layernorm:
      // LayerNormalization normalises trailing axes; the channels are axis 1 here, so a
      // spatial tensor is moved channels last and back.
      let p = parameters[node.id]!
      var args = ["", tensor("\(node.name).gamma", p.gamma!)]
      if let b = p.beta { args.append(tensor("\(node.name).beta", b)) }
      let eps = Attribute.float("epsilon", node.attributes.epsilon)
      if inRank == 1 {
        args[0] = inputs[0]
        add("LayerNormalization", node, args, out, [.int("axis", -1), eps])
      } else {
        let last = [0] + Array(2...inRank) + [1], back = [0, inRank] + Array(1..<inRank)
        add("Transpose", node, [inputs[0]], "\(node.name)/nhwc", [.ints("perm", last)], name: "\(node.name)/nhwc")
        args[0] = "\(node.name)/nhwc"
        add("LayerNormalization", node, args, "\(node.name)/norm", [.int("axis", -1), eps], name: "\(node.name)/norm")
        add("Transpose", node, ["\(node.name)/norm"], out, [.ints("perm", back)])
      }
    case .layerscale:
      // γ of [C] broadcast over the spatial axes that follow the channels here.
      let g = parameters[node.id]!.gamma!
      let trailing = [Int](repeating: 1, count: max(0, inRank - 1))
      add("Mul", node, [inputs[0], tensor("\(node.name).gamma", Tensor(shape: g.shape + trailing, data: g.data))], out)
    case .rmsnorm, .embed, .posembed, .typeembed, .clstoken, .tokens, .take, .attention,
      .upsample, .pad, .shuffle, .router, .moe:
      throw DiagnosticError(ONNXExport.unexportableLayers(graph))
    }
  }

  /// The error for a layer that export cannot write in this form.
  func refusal(_ node: Node, _ what: String) -> DiagnosticError {
    DiagnosticError([.error(.notExecutable, "`netc export --to onnx` cannot express \(what) yet: `\(node.name)`", at: node.headRange)])
  }

  /// GELU as opset 17 has no Gelu op: x * (1 + erf(x / sqrt 2)) / 2, or the tanh form
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
  }

  /// Appends a node; it is named after its layer unless `name` is given (a subgraph's
  /// inner steps are `LAYER/step`).
  mutating func add(
    _ opType: String, _ layer: Node, _ inputs: [String], _ output: String, _ attributes: [Attribute] = [], name: String? = nil
  ) {
    var n = Onnx_NodeProto()
    n.opType = opType
    n.name = name ?? layer.name
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

  /// An int64 vector initializer (Slice's starts, ends and axes).
  mutating func ints(_ name: String, _ v: [Int]) -> String {
    var p = Onnx_TensorProto()
    p.name = name
    p.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    p.dims = [Int64(v.count)]
    p.int64Data = v.map(Int64.init)
    initializers.append(p)
    return name
  }
}
