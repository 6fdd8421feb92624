import NetcBackends
import NetcDiagnostics

/// ConvNeXt as torchvision writes it: a feature map turned channels last (Transpose
/// `[0, 2, 3, 1]`, NCHW to NHWC) for a LayerNorm and Linears on each position, then back
/// (`[0, 3, 1, 2]`). netc's layers are channels last already, so the NHWC tensor is the
/// layer itself, a *view*: LayerNormalization over its last axis is LN, MatMul by a
/// constant (and its bias Add) LINEAR, GELU and elementwise steps keep the view; anything
/// that reads the axes (a conv, a pool, a flatten, a merge with an NCHW tensor) is an error.
extension ONNXLayerRecognizer {
  /// The op types that may read a channels-last view.
  static let viewOps: Set<String> = [
    "Transpose", "LayerNormalization", "MatMul", "Add", "Mul", "Div", "Erf", "Gelu", "Relu", "Sigmoid", "Tanh", "Identity", "Dropout",
    "ReduceMean", "Sub", "Pow", "Sqrt",
  ]

  /// Transpose `[0, 2, 3, 1]` of an image layer, or `[0, 3, 1, 2]` of a view: the same layer.
  mutating func channelsLastStep(_ a: ONNXAttributes) -> Bool {
    guard let name = node.input.first, let x = values[name], layers[x].shape.count == 3 else { return false }
    let perm = a.ints("perm") ?? []
    if !views.contains(name) && perm == [0, 2, 3, 1] {
      values[node.output[0]] = x
      views.insert(node.output[0])
      return true
    }
    if views.contains(name) && perm == [0, 3, 1, 2] {
      values[node.output[0]] = x
      return true
    }
    return false
  }

  /// Refuses a node that reads a view but is not one of `viewOps`; true when it reads one.
  func readsView(_ n: Onnx_NodeProto) throws(DiagnosticError) -> Bool {
    let read = n.input.filter { views.contains($0) }
    guard let first = read.first else { return false }
    guard Self.viewOps.contains(n.opType) else {
      throw unsupported(
        node:
          "reads `\(first.prefix(80))`, a feature map made channels last; netc imports LayerNormalization, MatMul, GELU and elementwise steps there, and the Transpose back"
      )
    }
    if ["Add", "Mul"].contains(n.opType) {
      let layersRead = n.input.filter { values[$0] != nil }
      guard layersRead.allSatisfy({ views.contains($0) }) else {
        throw unsupported(node: "combines a channels-last feature map with a channels-first one")
      }
    }
    return true
  }

  /// LayerNormalization over the last axis of a view (or of a vector): LN.
  mutating func imageLayerNorm(_ a: ONNXAttributes) throws(DiagnosticError) {
    let name = node.input.first ?? ""
    let x = try input(0)
    let rank = layers[x].shape.count + 1
    let axis = a.int("axis") ?? -1
    guard views.contains(name) || layers[x].shape.count == 1, axis == -1 || axis == rank - 1 else {
      throw unsupported(
        node: "normalizes axis \(axis) of a channels-first tensor; netc's LN normalizes the channels, of a channels-last map or a vector")
    }
    let c = layers[x].shape[0]
    guard let g = try constantInput(1), g.floats.count == c else { throw unsupported(node: "has no constant scale of \(c) values") }
    let b = try constantInput(2)
    if let b, b.floats.count != c { throw unsupported(node: "has a bias of \(b.floats.count) values for \(c) channels") }
    let eps = a.float("epsilon") ?? 1e-5
    guard eps.isFinite, eps > 0, eps <= 1 else { throw unsupported(node: "has epsilon \(eps); netc's eps is in (0, 1]") }
    var options: [String] = []
    if eps != Float(1e-5) { options.append("eps \(eps)") }
    if b == nil { options.append("bias false") }
    let id = add(.layernorm, "LN", [x], layers[x].shape, options: options, weight: node.input[1])
    layers[id].parameters = [(.gamma, Tensor(shape: [c], data: g.floats))]
    if let b { layers[id].parameters.append((.beta, Tensor(shape: [c], data: b.floats))) }
  }

  /// MatMul of a view by a constant `[C, N]`: LINEAR-N on each position (its bias from the
  /// Add that follows, `merge`).
  mutating func imageLinear() throws(DiagnosticError) {
    let x = try input(0)
    let c = layers[x].shape[0]
    guard let w = try constantInput(1), w.shape == [c, w.shape.last ?? 0], w.shape[1] >= 1 else {
      throw unsupported(node: "has no constant weight of \(c) rows for the channels")
    }
    let weight = Self.transpose(w.tensor)
    let units = weight.shape[0]
    let id = add(.linear, "LINEAR-\(units)", [x], [units] + layers[x].shape.dropFirst(), options: ["nobias"], weight: node.input[1])
    layers[id].parameters = [(.weight, weight)]
  }

  /// Mul of a layer by a constant of one value per channel (`[C, 1, 1]` of an NCHW map,
  /// `[C]` of a view): LAYERSCALE (ConvNeXt's layer_scale). False for any other Mul.
  mutating func layerScale() throws(DiagnosticError) -> Bool {
    guard node.opType == "Mul", node.input.count == 2 else { return false }
    for (v, k) in [(0, 1), (1, 0)] {
      guard let x = values[node.input[v]], let c = constants[node.input[k]], layers[x].shape.count == 3 else { continue }
      let channels = layers[x].shape[0]
      let view = views.contains(node.input[v])
      let shaped = view ? Array(c.shape.drop { $0 == 1 }) == [channels] : Array(c.shape.drop { $0 == 1 }) == [channels, 1, 1]
      guard shaped, c.floats.count == channels else { continue }
      let id = add(.layerscale, "LAYERSCALE", [x], layers[x].shape, weight: node.input[k])
      layers[id].parameters = [(.gamma, Tensor(shape: [channels], data: c.floats))]
      // Named after its parameter (`features.1.0.layer_scale`), not its block.
      let p = node.input[k]
      if !p.isEmpty && !p.contains("/") && !p.contains("::") && initializers.contains(p) { layers[id].modulePath = p }
      return true
    }
    return false
  }
}
