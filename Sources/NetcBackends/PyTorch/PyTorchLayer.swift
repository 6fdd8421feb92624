import NetcDiagnostics
import NetcIR
import NetcPasses

/// The code one layer contributes: its lines in `__init__` and its expression in `forward`.
struct TorchLayer {
  /// Lines of `__init__`, without indentation (`self.conv1 = nn.Conv2d(3, 10, 3)`).
  var setup: [String] = []
  /// The layer's value in `forward`, in terms of its inputs (`self.conv1(x)`).
  var expression: String
  /// Helpers of the generated file the code calls.
  var helpers: Set<TorchHelper> = []
}

/// Definitions the generated file contains only when some layer uses them.
enum TorchHelper: Int, CaseIterable, Comparable {
  case functional, rotary, attention, rmsNormWithBias, dropPath, sinusoidal

  static func < (a: TorchHelper, b: TorchHelper) -> Bool { a.rawValue < b.rawValue }
}

/// One input of a layer: its Python expression and layout.
struct TorchValue {
  var name: String
  var layout: TorchLayout
  var rank: Int
}

/// Writes the PyTorch code of single layers.
struct TorchLayerWriter {
  let graph: Graph
  let shapes: Shapes
  let layouts: [TorchLayout]

  /// The layer's code; `attribute` is its submodule's name in the class that holds it.
  /// Nil for a layer that is its input unchanged (identity, an elided projection).
  func layer(_ node: Node, attribute a: String, inputs: [TorchValue]) throws(DiagnosticError) -> TorchLayer? {
    let r = shapes.nodes[node.id]
    let out = layouts[node.id]
    let need = LayoutNeed(node.op)
    // Each input in the layout the layer computes in.
    let x: [String] = inputs.map { v in
      switch need {
      case .channelsFirst: converted(v.name, from: v.layout, to: .channelsFirst)
      case .channelsLast: converted(v.name, from: v.layout, to: .channelsLast)
      case .either: converted(v.name, from: v.layout, to: out == .neutral ? v.layout : out)
      }
    }
    let inShape = node.inputs.first.map { shapes[$0] } ?? []
    let spatial = max(1, inShape.count - 1)
    let channelAxis = out == .channelsFirst ? "1" : "-1"
    func module(_ constructor: String, helpers: Set<TorchHelper> = []) -> TorchLayer {
      TorchLayer(setup: ["self.\(a) = \(constructor)"], expression: "self.\(a)(\(x[0]))", helpers: helpers)
    }
    func args(_ positional: [String], _ keywords: [(String, String?)]) -> String {
      (positional + keywords.compactMap { k, v in v.map { "\(k)=\($0)" } }).joined(separator: ", ")
    }
    switch node.op {
    case .input, .identity:
      return nil
    case .moe:
      // The routed sum is its mixture class's `forward` (PyTorchMixtureWriter).
      throw refusal(node, "a mixture's routed sum outside its mixture")
    case .conv, .dwconv, .pwconv:
      let w = r.window!
      let symmetric = w.padBegin == w.padEnd
      var layer = module(
        "nn.Conv\(spatial)d("
          + args(
            ["\(r.inChannels)", "\(r.outChannels)", PythonNames.extents(w.kernel)],
            [
              ("stride", w.stride.allSatisfy { $0 == 1 } ? nil : PythonNames.extents(w.stride)),
              ("padding", !symmetric || w.padBegin.allSatisfy { $0 == 0 } ? nil : PythonNames.extents(w.padBegin)),
              ("dilation", w.dilation.allSatisfy { $0 == 1 } ? nil : PythonNames.extents(w.dilation)),
              ("groups", r.groups == 1 ? nil : "\(r.groups)"), ("bias", node.attributes.bias ? nil : "False"),
            ]) + ")")
      if !symmetric {
        layer.expression = "self.\(a)(F.pad(\(x[0]), \(padPairs(w.padBegin, w.padEnd))))"
        layer.helpers.insert(.functional)
      }
      return layer
    case .deconv:
      let w = r.window!
      let outSpatial = Array(r.shape.dropLast())
      let outputPadding = r.inputSpatial.indices.map { i in
        outSpatial[i] - (w.stride[i] * (r.inputSpatial[i] - 1) + w.dilation[i] * (w.kernel[i] - 1) + 1 - w.padBegin[i] - w.padEnd[i])
      }
      let direct =
        w.padBegin == w.padEnd
        && outputPadding.indices.allSatisfy { outputPadding[$0] >= 0 && outputPadding[$0] < max(w.stride[$0], w.dilation[$0]) }
      // PyTorch pads a transposed conv evenly and adds output padding below the stride;
      // anything else is the unpadded output cropped to netc's extents.
      let pad = direct ? w.padBegin : w.kernel.map { _ in 0 }
      var layer = module(
        "nn.ConvTranspose\(spatial)d("
          + args(
            ["\(r.inChannels)", "\(r.outChannels)", PythonNames.extents(w.kernel)],
            [
              ("stride", w.stride.allSatisfy { $0 == 1 } ? nil : PythonNames.extents(w.stride)),
              ("padding", pad.allSatisfy { $0 == 0 } ? nil : PythonNames.extents(pad)),
              ("output_padding", !direct || outputPadding.allSatisfy { $0 == 0 } ? nil : PythonNames.extents(outputPadding)),
              ("groups", r.groups == 1 ? nil : "\(r.groups)"), ("bias", node.attributes.bias ? nil : "False"),
              ("dilation", w.dilation.allSatisfy { $0 == 1 } ? nil : PythonNames.extents(w.dilation)),
            ]) + ")")
      if !direct {
        let full = r.inputSpatial.indices.map { i in w.stride[i] * (r.inputSpatial[i] - 1) + w.dilation[i] * (w.kernel[i] - 1) + 1 }
        guard full.indices.allSatisfy({ w.padBegin[$0] + outSpatial[$0] <= full[$0] }) else {
          throw refusal(node, "a DECONV whose output padding reaches past its window")
        }
        let crop = outSpatial.indices.map { "\(w.padBegin[$0]):\(w.padBegin[$0] + outSpatial[$0])" }.joined(separator: ", ")
        layer.expression += "[:, :, \(crop)]"
      }
      return layer
    case .maxpool, .avgpool:
      let w = r.window!
      let max = node.op == .maxpool
      if !max && w.dilation.contains(where: { $0 != 1 }) { return try dilatedAverage(node, w, x[0], spatial: spatial) }
      // PyTorch pads a pool evenly by at most half its kernel; other padding is explicit
      // (-inf for max, zeros for average: netc's divisor counts the padded taps, as
      // count_include_pad does).
      let inPool = w.padBegin == w.padEnd && w.padBegin.indices.allSatisfy { 2 * w.padBegin[$0] <= w.kernel[$0] }
      var layer = module(
        "nn.\(max ? "Max" : "Avg")Pool\(spatial)d("
          + args(
            [PythonNames.extents(w.kernel)],
            [
              ("stride", w.stride == w.kernel ? nil : PythonNames.extents(w.stride)),
              ("padding", !inPool || w.padBegin.allSatisfy { $0 == 0 } ? nil : PythonNames.extents(w.padBegin)),
              ("dilation", !max || w.dilation.allSatisfy { $0 == 1 } ? nil : PythonNames.extents(w.dilation)),
              ("ceil_mode", w.rounding == .ceil ? "True" : nil),
            ]) + ")")
      if !inPool {
        let fill = max ? ", value=float(\"-inf\")" : ""
        layer.expression = "self.\(a)(F.pad(\(x[0]), \(padPairs(w.padBegin, w.padEnd))\(fill)))"
        layer.helpers.insert(.functional)
      }
      return layer
    case .gap, .gmp:
      let mean = node.op == .gap
      if out == .channelsFirst { return module("nn.Adaptive\(mean ? "Avg" : "Max")Pool\(spatial)d(1)") }
      let dims = spatial == 1 ? "1" : PythonNames.tuple(Array(1...spatial))
      return TorchLayer(expression: "\(x[0]).\(mean ? "mean" : "amax")(dim=\(dims), keepdim=True)")
    case .fc, .linear, .router:
      return module(
        "nn.Linear(" + args(["\(r.inChannels)", "\(r.outChannels)"], [("bias", node.attributes.bias ? nil : "False")]) + ")")
    case .flatten:
      return TorchLayer(expression: inShape.count > 1 ? "torch.flatten(\(x[0]), 1)" : x[0])
    case .bn:
      return module(
        "nn.BatchNorm\(inShape.count <= 2 ? 1 : inShape.count - 1)d("
          + args(["\(r.shape.last!)"], [("eps", epsilon(node, default: 1e-5))]) + ")")
    case .layernorm:
      return module(
        "nn.LayerNorm("
          + args(["\(r.shape.last!)"], [("eps", epsilon(node, default: 1e-5)), ("bias", node.attributes.bias ? nil : "False")])
          + ")")
    case .rmsnorm:
      if node.attributes.bias {
        return module("RMSNormWithBias(\(r.shape.last!), eps=\(PythonNames.float(node.attributes.epsilon)))", helpers: [.rmsNormWithBias])
      }
      return module("nn.RMSNorm(\(r.shape.last!), eps=\(PythonNames.float(node.attributes.epsilon)))")
    case .relu: return module("nn.ReLU()")
    case .relu6: return module("nn.ReLU6()")
    case .sigmoid: return module("nn.Sigmoid()")
    case .tanh: return module("nn.Tanh()")
    case .silu: return module("nn.SiLU()")
    case .hardswish: return module("nn.Hardswish()")
    case .hardsigmoid: return module("nn.Hardsigmoid()")
    case .softmax: return module("nn.Softmax(dim=\(channelAxis))")
    case .gelu: return module(node.attributes.tanhApproximation ? "nn.GELU(approximate=\"tanh\")" : "nn.GELU()")
    case .leakyrelu:
      return module(node.attributes.slope == 0.01 ? "nn.LeakyReLU()" : "nn.LeakyReLU(\(PythonNames.float(node.attributes.slope)))")
    case .dropout:
      let p = node.attributes.dropProbability
      return module(p == 0.5 ? "nn.Dropout()" : "nn.Dropout(\(PythonNames.float(p)))")
    case .droppath:
      return module("DropPath(\(PythonNames.float(node.attributes.dropProbability)))", helpers: [.dropPath])
    case .layerscale:
      let c = r.shape.last!
      let view = out == .channelsFirst ? ".view(-1\(String(repeating: ", 1", count: r.shape.count - 1)))" : ""
      return TorchLayer(setup: ["self.\(a) = nn.Parameter(torch.ones(\(c)))"], expression: "\(x[0]) * self.\(a)\(view)")
    case .embed:
      return TorchLayer(
        setup: ["self.\(a) = nn.Embedding(\(r.inChannels), \(r.outChannels))"], expression: "self.\(a)(\(x[0]))")
    case .posembed:
      if r.noParameters {
        return TorchLayer(
          setup: ["self.register_buffer(\"\(a)\", sinusoidal_positions(\(r.shape[0]), \(r.shape[1])), persistent=False)"],
          expression: "\(x[0]) + self.\(a)[: \(x[0]).shape[1]]", helpers: [.sinusoidal])
      }
      return TorchLayer(
        setup: ["self.\(a) = nn.Embedding(\(r.inChannels), \(r.outChannels))"],
        expression: "\(x[0]) + self.\(a).weight[: \(x[0]).shape[1]]")
    case .typeembed:
      // Every token is of type 0, as `netc run` takes no type ids.
      return TorchLayer(
        setup: ["self.\(a) = nn.Embedding(\(r.inChannels), \(r.outChannels))"], expression: "\(x[0]) + self.\(a).weight[0]")
    case .clstoken:
      return TorchLayer(
        setup: ["self.\(a) = nn.Parameter(torch.zeros(1, 1, \(r.shape.last!)))"],
        expression: "torch.cat([self.\(a).expand(\(x[0]).shape[0], -1, -1), \(x[0])], dim=1)")
    case .tokens:
      return TorchLayer(
        expression: inputs[0].layout == .channelsFirst ? "\(inputs[0].name).flatten(2).transpose(1, 2)" : "\(inputs[0].name).flatten(1, -2)"
      )
    case .take:
      return TorchLayer(expression: "\(x[0])[:, \(node.attributes.index)]")
    case .attention:
      var keywords: [(String, String?)] = [
        ("kv_heads", r.kvHeads == r.heads ? nil : "\(r.kvHeads)"),
        ("head_dim", r.headDim * r.heads == r.inChannels ? nil : "\(r.headDim)"),
        ("bias", node.attributes.bias ? nil : "False"), ("causal", node.attributes.causal ? "True" : nil),
        ("rope", node.attributes.rotary ? "True" : nil),
        ("rope_theta", node.attributes.rotary && node.attributes.ropeTheta != 10000 ? "\(node.attributes.ropeTheta)" : nil),
      ]
      if node.inputs.count > 1 { keywords.append(("memory_width", "\(r.memoryChannels)")) }
      var helpers: Set<TorchHelper> = [.attention, .functional]
      if node.attributes.rotary { helpers.insert(.rotary) }
      return TorchLayer(
        setup: ["self.\(a) = Attention(" + args(["\(r.inChannels)", "\(r.heads)"], keywords) + ")"],
        expression: "self.\(a)(\(x.joined(separator: ", ")))", helpers: helpers)
    case .upsample:
      let bilinear = node.attributes.upsampleMode == .bilinear
      let mode = bilinear ? ["linear", "bilinear", "trilinear"][min(spatial, 3) - 1] : nil
      let size = node.attributes.integers[.size] != nil
      return module(
        "nn.Upsample("
          + args(
            [],
            [
              ("size", size ? PythonNames.extents(Array(r.shape.dropLast())) : nil),
              ("scale_factor", size ? nil : PythonNames.float(Double(node.attributes.count?.expr.constant ?? 1))),
              ("mode", mode.map { "\"\($0)\"" }), ("align_corners", bilinear ? "False" : nil),
            ]) + ")")
    case .pad:
      let begin = ZeroPad.begin(node, inShape, r.shape)
      let end = begin.indices.map { r.shape[$0] - inShape[$0] - begin[$0] }
      return module("nn.ZeroPad\(spatial)d(\(padPairs(begin, end)))")
    case .shuffle:
      let g = node.attributes.count?.expr.constant ?? 1, c = r.shape.last!
      if out == .channelsFirst { return module("nn.ChannelShuffle(\(g))") }
      // ChannelShuffle's permutation on the last axis: view C as [G][C/G], transpose.
      return TorchLayer(expression: "\(x[0]).unflatten(-1, (\(g), \(c / g))).transpose(-2, -1).flatten(-2)")
    case .slice:
      let c = inShape.last!, parts = node.attributes.count?.expr.constant ?? 1, w = c / parts
      let start = node.attributes.index * w
      return TorchLayer(expression: out == .channelsFirst ? "\(x[0])[:, \(start):\(start + w)]" : "\(x[0])[..., \(start):\(start + w)]")
    case .add:
      return TorchLayer(expression: x.joined(separator: " + "))
    case .concat:
      return TorchLayer(expression: "torch.cat([\(x.joined(separator: ", "))], dim=\(channelAxis))")
    case .mul:
      // NumPy's broadcasting aligns netc's shapes at the channels; a tensor of lower rank
      // gains the missing spatial axes next to its batch (channels last) or channels.
      let rank = r.shape.count
      let factors = zip(x, inputs).map { e, v -> String in
        let missing = rank - v.rank
        if missing <= 0 { return e }
        let nones = Array(repeating: "None", count: missing).joined(separator: ", ")
        return out == .channelsFirst ? "\(e)[:, :, \(nones)]" : "\(e)[:, \(nones)]"
      }
      return TorchLayer(expression: factors.joined(separator: " * "))
    }
  }

  /// netc's tensor `kind` of a layer as the generated module's state key, relative to the
  /// layer's attribute (empty: the attribute is the parameter itself).
  static func stateSuffix(_ op: OpKind, _ kind: ParameterKind) -> String {
    switch (op, kind) {
    case (.bn, .gamma), (.layernorm, .gamma), (.rmsnorm, .gamma): "weight"
    case (.bn, .beta), (.layernorm, .beta), (.rmsnorm, .beta): "bias"
    case (.bn, .mean): "running_mean"
    case (.bn, .variance): "running_var"
    case (.layerscale, _), (.clstoken, _): ""
    case (.attention, .wq): "q_proj.weight"
    case (.attention, .bq): "q_proj.bias"
    case (.attention, .wk): "k_proj.weight"
    case (.attention, .bk): "k_proj.bias"
    case (.attention, .wv): "v_proj.weight"
    case (.attention, .bv): "v_proj.bias"
    case (.attention, .wo): "o_proj.weight"
    case (.attention, .bo): "o_proj.bias"
    case (_, let kind): kind.rawValue
    }
  }

  /// An epsilon unless it is PyTorch's default.
  func epsilon(_ node: Node, default d: Double) -> String? {
    node.attributes.epsilon == d ? nil : PythonNames.float(node.attributes.epsilon)
  }

  /// `F.pad`'s and `nn.ZeroPad`'s order: the last axis first, each as (begin, end).
  func padPairs(_ begin: [Int], _ end: [Int]) -> String {
    PythonNames.tuple(begin.indices.reversed().flatMap { [begin[$0], end[$0]] })
  }

  /// A dilated average pool, which PyTorch's AvgPool does not take: the zero-padded input
  /// through a depthwise conv of `1 / taps` weights. Every window then lies inside the
  /// padded input, so the divisor is the kernel's taps, as netc's count of the taps inside
  /// it; a ceil mode that adds windows reaching past it (smaller divisors) is refused.
  func dilatedAverage(_ node: Node, _ w: Window, _ x: String, spatial: Int) throws(DiagnosticError) -> TorchLayer {
    let r = shapes.nodes[node.id]
    let outSpatial = Array(r.shape.dropLast()), inSpatial = Array(shapes[node.inputs[0]].dropLast())
    for i in outSpatial.indices
    where (outSpatial[i] - 1) * w.stride[i] + w.dilation[i] * (w.kernel[i] - 1) + 1 > inSpatial[i] + w.padBegin[i] + w.padEnd[i] {
      throw refusal(node, "a dilated AVGPOOL whose ceil rounding adds a window past its padding")
    }
    let c = r.shape.last!, taps = w.kernel.reduce(1, *)
    let padded = w.padBegin.allSatisfy { $0 == 0 } && w.padEnd.allSatisfy { $0 == 0 } ? x : "F.pad(\(x), \(padPairs(w.padBegin, w.padEnd)))"
    let options = [
      w.stride.allSatisfy { $0 == 1 } ? nil : "stride=\(PythonNames.extents(w.stride))", "dilation=\(PythonNames.extents(w.dilation))",
      "groups=\(c)",
    ].compactMap { $0 }
    var layer = TorchLayer(
      expression:
        "F.conv\(spatial)d(\(padded), \(x).new_full((\(c), 1, \(w.kernel.map(String.init).joined(separator: ", "))), 1 / \(taps)), \(options.joined(separator: ", ")))"
    )
    layer.helpers.insert(.functional)
    return layer
  }

  func refusal(_ node: Node, _ what: String) -> DiagnosticError {
    DiagnosticError([.error(.notExecutable, "`netc export --to pytorch` cannot write \(what) yet: `\(node.name)`", at: node.headRange)])
  }
}
