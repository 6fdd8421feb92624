import NetcIR

/// BN at inference as a per-channel affine map, `y = scale * x + shift` with
/// `scale = gamma / sqrt(var + eps)` and `shift = beta - mean * scale`: what the
/// interpreter applies, and what the folds into a conv (in both backends) use.
func batchNormAffine<T: TensorScalar>(_ node: Node, _ p: LayerParameters<T>) -> (scale: [T], shift: [T]) {
  let eps = T(node.attributes.epsilon)
  let gamma = p.gamma!.data, beta = p.beta!.data, mean = p.mean!.data, variance = p.variance!.data
  var scale = [T](repeating: 0, count: gamma.count), shift = scale
  for c in 0..<gamma.count {
    scale[c] = gamma[c] / T.sqrt(variance[c] + eps)
    shift[c] = beta[c] - mean[c] * scale[c]
  }
  return (scale, shift)
}
