import NetcDiagnostics

/// A tensor on the way through GELU's exact form as torch.onnx writes `nn.GELU()`:
/// `Div(x, sqrt 2)`, `Erf`, `Add(1)`, `Mul(x)`, `Mul(0.5)` (or the half taken first).
enum GeluPartial {
  case scaled(Int), erf(Int), onePlus(Int), product(Int), half(Int)
  /// (1 + erf(x / sqrt 2)) / 2, before x multiplies it (torch's dynamo decomposition).
  case halfOnePlus(Int)
}

extension ONNXLayerRecognizer {
  /// Advances a GELU pattern by the current node; false when the node is not a step of one.
  mutating func geluStep() throws(DiagnosticError) -> Bool {
    guard node.input.count == (node.opType == "Erf" ? 1 : 2) else { return false }
    let out = node.output[0]
    // Each input as a layer, a partial or a scalar constant.
    func layer(_ k: Int) -> Int? { values[node.input[k]] }
    func partial(_ k: Int) -> GeluPartial? { partials[node.input[k]] }
    func scalar(_ k: Int) -> Float? { constants[node.input[k]]?.scalar }
    func near(_ v: Float?, _ target: Double) -> Bool { v.map { abs(Double($0) - target) <= 1e-6 * target } ?? false }
    switch node.opType {
    case "Div":
      guard let x = layer(0), near(scalar(1), 2.0.squareRoot()) else { return false }
      partials[out] = .scaled(x)
    case "Erf":
      guard case .scaled(let x)? = partials[node.input[0]] else { return false }
      partials[out] = .erf(x)
    case "Add":
      for (p, c) in [(0, 1), (1, 0)] {
        guard case .erf(let x)? = partial(p), near(scalar(c), 1) else { continue }
        partials[out] = .onePlus(x)
        return true
      }
      return false
    default:  // Mul
      for (a, b) in [(0, 1), (1, 0)] {
        switch (partial(a), layer(b), partial(b)) {
        case (.onePlus(let x)?, let y?, _) where x == y:
          partials[out] = .product(x)
        case (.onePlus(let x)?, _, .half(let y)?) where x == y:
          return finish(x)
        case (.product(let x)?, _, _) where near(scalar(b), 0.5):
          return finish(x)
        case (.onePlus(let x)?, _, _) where near(scalar(b), 0.5):
          partials[out] = .halfOnePlus(x)
        case (.halfOnePlus(let x)?, let y?, _) where x == y:
          return finish(x)
        case (nil, let x?, _) where near(scalar(a), 0.5) && isGeluInput(x):
          partials[out] = .half(x)
        default:
          continue
        }
        return true
      }
      if let x = layer(0), near(scalar(1), 1 / 2.0.squareRoot()) {
        partials[out] = .scaled(x)
        return true
      }
      return false
    }
    return true
  }

  /// Whether layer `x` also feeds an `x / sqrt 2` (so `x * 0.5` is GELU's half, not a
  /// scaling netc has no layer for).
  func isGeluInput(_ x: Int) -> Bool {
    partials.values.contains { if case .scaled(let y) = $0 { y == x } else { false } }
  }

  mutating func finish(_ x: Int) -> Bool {
    add(.gelu, "GELU", [x], layers[x].shape)
    return true
  }
}
