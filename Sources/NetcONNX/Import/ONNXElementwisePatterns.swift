import NetcDiagnostics
import NetcIR

/// GELU's tanh form and layer and RMS norms spelled out in elementwise nodes, as
/// transformers' `NewGELUActivation`, netc's own export and decomposed norms write them:
/// each node advances a `SequencePartial` of its input layer, the last one makes the layer.
extension ONNXLayerRecognizer {
  /// Advances a pattern by the current node; false when it is not a step of one.
  mutating func elementwiseStep() throws(DiagnosticError) -> Bool {
    // The binary steps read both inputs by index (a file's node may have one).
    if ["Add", "Sub", "Mul", "Div", "Pow"].contains(node.opType) && node.input.count != 2 { return false }
    if scaleStep() { return true }
    if try maskStep() { return true }
    if try rotaryStep() { return true }
    let op = node.opType
    func layerLike(_ name: String) -> Bool {
      switch seq[name] {
      case .linear?, .attention?, .normScaled?: true
      default: false
      }
    }
    // A bias or β on a pending projection or norm is sequenceAdd's.
    if op == "Add", node.input.count == 2, node.input.contains(where: { constants[$0] != nil }), node.input.contains(where: layerLike) {
      return false
    }
    for name in node.input where layerLike(name) { _ = try layer(of: name) }
    if ["Div", "Erf", "Add", "Mul"].contains(op), try geluStep() { return true }
    let out = node.output[0]
    // Token ids are no layer a pattern computes on (layerInput refuses them with the reason).
    func l(_ k: Int) -> Int? { k < node.input.count ? values[node.input[k]].flatMap { isTokenInput($0) ? nil : $0 } : nil }
    func p(_ k: Int) -> SequencePartial? { k < node.input.count ? seq[node.input[k]] : nil }
    func s(_ k: Int) -> Float? { k < node.input.count ? constants[node.input[k]]?.scalar : nil }
    func near(_ v: Float?, _ target: Double) -> Bool { v.map { abs(Double($0) - target) <= 1e-5 * abs(target) } ?? false }
    func set(_ partial: SequencePartial) -> Bool {
      seq[out] = partial
      return true
    }
    let pairs = [(0, 1), (1, 0)]
    switch op {
    case "Pow":
      if let x = l(0), near(s(1), 3) { return set(.cube(x)) }
      if let x = l(0), near(s(1), 2) { return set(.square(x)) }
      if case .centered(let x)? = p(0), near(s(1), 2) { return set(.centeredSquare(x)) }
    case "Mul":
      if let x = l(0), l(1) == x { return set(.square(x)) }
      if case .centered(let x)? = p(0), case .centered(let y)? = p(1), x == y { return set(.centeredSquare(x)) }
      for (a, b) in pairs {
        switch (p(a), l(b), s(b)) {
        case (.square(let x)?, let y?, _) where x == y: return set(.cube(x))
        case (.cube(let x)?, _, let c) where near(c, 0.044715): return set(.cubeScaled(x))
        case (.inner(let x)?, _, let c) where near(c, (2 / Double.pi).squareRoot()): return set(.innerScaled(x))
        case (.onePlusTanh(let x)?, let y?, _) where x == y: return set(.timesOnePlus(x))
        case (.timesOnePlus(let x)?, _, let c) where near(c, 0.5): return geluTanh(x)
        case (.normalized(let x, let eps)?, _, _), (.rmsNormalized(let x, let eps)?, _, _):
          guard let g = constants[node.input[b]], g.floats.count == normWidth(x) else { continue }
          var rms = false
          if case .rmsNormalized? = p(a) { rms = true }
          return set(.normScaled(x: x, eps: eps, gamma: g.floats, rms: rms, node: node.name, module: ModulePath.of(node, weight: nil)))
        default: break
        }
        if case .inverseRms(let x, let e)? = p(a), l(b) == x { return set(.rmsNormalized(x, e)) }
        if case .half(let x)? = p(a), case .onePlusTanh(let y)? = p(b), x == y { return geluTanh(x) }
        if let x = l(a), near(s(b), 0.5) { return set(.half(x)) }
      }
    case "Add":
      for (a, b) in pairs {
        if case .cubeScaled(let x)? = p(a), l(b) == x { return set(.inner(x)) }
        if case .tanh(let x)? = p(a), near(s(b), 1) { return set(.onePlusTanh(x)) }
        if case .variance(let x)? = p(a), let e = s(b), e > 0, e <= 1 { return set(.varianceEps(x, e)) }
        if case .meanSquare(let x)? = p(a), let e = s(b), e > 0, e <= 1 { return set(.meanSquareEps(x, e)) }
      }
    case "Tanh":
      if case .innerScaled(let x)? = p(0) { return set(.tanh(x)) }
    case "Sub":
      if let x = l(0), case .mean(let y)? = p(1), x == y { return set(.centered(x)) }
    case "Sqrt":
      if case .varianceEps(let x, let e)? = p(0) { return set(.deviation(x, e)) }
      if case .meanSquareEps(let x, let e)? = p(0) { return set(.rms(x, e)) }
    case "Div":
      if case .centered(let x)? = p(0), case .deviation(let y, let e)? = p(1), x == y { return set(.normalized(x, e)) }
      if let x = l(0), case .rms(let y, let e)? = p(1), x == y { return set(.rmsNormalized(x, e)) }
      if near(s(0), 1), case .rms(let x, let e)? = p(1) { return set(.inverseRms(x, e)) }
    case "Reciprocal":
      if case .rms(let x, let e)? = p(0) { return set(.inverseRms(x, e)) }
    case "ReduceMean":
      let a = ONNXAttributes(node)
      var axes = a.ints("axes") ?? []
      if axes.isEmpty, let v = try constantInput(1)?.integers { axes = v }
      guard (a.int("keepdims") ?? 1) == 1 else { return false }
      func lastAxis(_ x: Int) -> Bool { axes.count == 1 && (axes[0] == -1 || axes[0] == layers[x].shape.count) }
      if let x = l(0), lastAxis(x) { return set(.mean(x)) }
      if case .square(let x)? = p(0), lastAxis(x) { return set(.meanSquare(x)) }
      if case .centeredSquare(let x)? = p(0), lastAxis(x) { return set(.variance(x)) }
    default:
      break
    }
    return false
  }

  /// The axis a norm spelled out normalizes: a sequence's last, or a channels-last view's
  /// channels (the first of an image layer's `[C, H, W]`).
  func normWidth(_ x: Int) -> Int { (sequence ? layers[x].shape.last : layers[x].shape.first) ?? 0 }

  /// A step of a LayerNorm spelled out (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul
  /// γ, Add β) on a channels-last view of an image (torchvision's ConvNeXt below opset 17).
  mutating func viewNormStep() throws(DiagnosticError) -> Bool {
    guard ["ReduceMean", "Sub", "Pow", "Sqrt", "Div", "Add", "Mul"].contains(node.opType) else { return false }
    if node.opType == "Add", node.input.count == 2 {
      for (v, c) in [(0, 1), (1, 0)] {
        guard case .normScaled(let x, let eps, let gamma, let rms, _, let module)? = seq[node.input[v]], let b = constants[node.input[c]],
          b.floats.count == gamma.count
        else { continue }
        normLayer(x: x, eps: eps, gamma: gamma, beta: b.floats, rms: rms, nodeName: node.name, module: module, outputName: node.output[0])
        return true
      }
    }
    return try elementwiseStep()
  }

  mutating func geluTanh(_ x: Int) -> Bool {
    append(.gelu, "GELU", [x], layers[x].shape, options: ["tanh"])
    return true
  }
}
