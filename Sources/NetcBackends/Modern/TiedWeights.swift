import NetcIR

/// `tie L` (GPT-2's LM head on its token embedding): one weight tensor, read by both layers.
/// `WeightBinding` binds it at its owner only; the interpreter hands the owner's tensor to
/// the tied layer (a shared array, not a copy), and the tied layer's weight gradient adds
/// into the owner's, so there is one tensor and one gradient, as in PyTorch.

/// The parameters with each tied layer's weight set to its owner's.
func sharingTiedWeights<T: TensorScalar>(_ graph: Graph, _ parameters: consuming [LayerParameters<T>?]) -> [LayerParameters<T>?] {
  var p = consume parameters
  for node in graph.layers {
    guard let owner = node.attributes.tiedTo, let w = p[owner]?.weight else { continue }
    var mine = p[node.id] ?? LayerParameters<T>()
    mine.weight = w
    p[node.id] = mine
  }
  return p
}

/// Adds each tied layer's weight gradient into its owner's and drops it from the tied layer.
func moveTiedGradients<T: TensorScalar>(_ graph: Graph, _ layers: inout [LayerParameters<T>?]) {
  // Later layers first: a chain of ties (C ties B, B ties A) ends at A.
  for node in graph.layers.reversed() {
    guard let owner = node.attributes.tiedTo, let dw = layers[node.id]?.weight else { continue }
    layers[node.id]?.weight = nil
    if var existing = layers[owner]?.weight {
      for i in 0..<existing.count { existing.data[i] += dw.data[i] }
      layers[owner]?.weight = existing
    } else {
      var theirs = layers[owner] ?? LayerParameters<T>()
      theirs.weight = dw
      layers[owner] = theirs
    }
  }
}
