import NetcDiagnostics

/// torch.nn.MultiheadAttention as the TorchScript exporter writes it: the sequence made
/// time-major (`[T, N, C]`: Transpose `[1, 0, 2]`, the same data at a batch of one), one
/// packed in-projection of q, k and v (or of k and v, for a cross-attention) unflattened to
/// `[T, N, P, C]`, its P parts moved to the front (Unsqueeze 0, Transpose `[3, 1, 2, 0, 4]`,
/// Squeeze -2) and taken by Gather; each part split into heads `[T, N*H, D]` and transposed
/// to `[N*H, T, D]` (the flat heads of torch's SDPA decomposition), the context moved back
/// by Transpose `[2, 0, 1, 3]`.
extension ONNXLayerRecognizer {
  /// Reshape of a time-major projection to `[T, 1, P, C]`: P parts of C units each, the
  /// packed q, k, v (a projection of `[1, T, C]` to `[1, T, H, D]` is heads).
  mutating func unflattenParts(_ l: PendingLinear, _ target: [Int]?) -> Bool {
    guard l.timeMajor, let t = target, t.count == 4, [0, -1, layers[l.input].shape.first ?? -1].contains(t[0]), [0, 1].contains(t[1]),
      t[2] >= 2,
      t[3] >= 1, Self.times(t[2], t[3]) == l.units
    else { return false }
    seq[node.output[0]] = .packed(l, parts: t[2], stage: .unflattened)
    return true
  }

  /// Unsqueeze, Transpose and Squeeze of packed parts, each in its place of the sequence.
  mutating func packedStep(_ l: PendingLinear, parts: Int, stage: PackedStage, axes: [Int]?, perm: [Int]?) -> Bool {
    let next: PackedStage
    switch (stage, node.opType) {
    case (.unflattened, "Unsqueeze") where axes == [0]: next = .unsqueezed
    case (.unsqueezed, "Transpose") where perm == [3, 1, 2, 0, 4]: next = .moved
    case (.moved, "Squeeze") where axes == [3] || axes == [-2]: next = .squeezed
    default: return false
    }
    seq[node.output[0]] = .packed(l, parts: parts, stage: next)
    return true
  }

  /// The axes of the current Squeeze or Unsqueeze: its second input (opset 13 on) or attribute.
  func squeezeAxes() -> [Int]? {
    if node.input.count > 1, let c = constants[node.input[1]] { return c.integers }
    return ONNXAttributes(node).ints("axes")
  }

  /// Gather of part k (a scalar index on axis 0) of packed parts: that part's projection.
  mutating func takePart(_ a: ONNXAttributes) throws(DiagnosticError) -> Bool {
    guard case .packed(let l, let parts, .squeezed)? = seq[node.input[0]] else { return false }
    guard (a.int("axis") ?? 0) == 0, node.input.count == 2, let index = constants[node.input[1]], index.shape == [],
      let k0 = index.integers?.first, k0 >= -parts, k0 < parts
    else {
      throw unsupported(node: "gathers from packed projections other than one part on axis 0; netc takes q, k and v one by one")
    }
    let k = k0 < 0 ? k0 + parts : k0, width = l.units / parts
    seq[node.output[0]] = .slice(Projection(linear: l, offset: k * width, count: width))
    return true
  }
}

/// Where packed parts are on their way to the front (`ONNXPackedProjectionPattern`).
enum PackedStage {
  case unflattened, unsqueezed, moved, squeezed
}
