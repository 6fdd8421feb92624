import CNetcKernels
import NetcIR

/// The output pass's steps that read their inputs where they lie in the arena and write
/// straight into their own place in it. The others go through `evaluate`, which takes
/// arrays: every input copied out and the output copied in, a fresh allocation each (at
/// GPT-2's T = 1024 a layer's 12.6 MB MLP activation was copied three times and page-faulted
/// twice, which took longer than its GELU).
extension Interpreter {
  /// Writes node's value (`count` elements) into `out` from its inputs' values at `inputs`,
  /// or returns false (nothing written) for an op `evaluate` computes instead.
  func evaluate(_ node: Node, reading inputs: [UnsafePointer<T>], into out: UnsafeMutablePointer<T>, count: Int) -> Bool {
    let r = shapes.nodes[node.id], x = inputs[0]
    func array(_ i: Int) -> [T] { Array(UnsafeBufferPointer(start: inputs[i], count: shapes[node.inputs[i]].reduce(1, *))) }
    switch node.op {
    case .linear, .router:
      let n = r.inChannels
      LastAxisLinear.forward(
        x, rows: count / r.outChannels, lda: n, linearWeight(node.id, .weight), bias: parameters[node.id]?.bias?.data, into: out,
        in: n, out: r.outChannels, threads: threads)
      return true
    case .attention:
      let xs = array(0)
      attention(node).forward(xs, memory: inputs.count > 1 ? array(1) : xs, into: out)
      return true
    case .layernorm, .rmsnorm:
      let p = parameters[node.id]!
      LastAxisNorm.forward(
        x, count: count, channels: r.shape.last!, centered: node.op == .layernorm, eps: T(node.attributes.epsilon),
        gamma: p.gamma!.data, beta: p.beta?.data, into: out)
      return true
    case .gelu:
      guard T.self == Float.self else { return false }
      let kernel: GatedActivation.Kernel = node.attributes.tanhApproximation ? netc_gelu_tanh : netc_gelu_erf
      GatedActivation.elementwise(
        UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), into: UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self),
        count: count, threads: threads, kernel)
      return true
    case .add:
      for i in 0..<count { out[i] = x[i] }
      for other in inputs.dropFirst() { for i in 0..<count { out[i] += other[i] } }
      return true
    case .input, .conv, .dwconv, .pwconv, .maxpool, .avgpool, .gap, .gmp, .fc, .flatten, .bn, .relu, .relu6, .sigmoid, .tanh,
      .softmax, .identity, .leakyrelu, .dropout, .concat, .silu, .hardswish, .hardsigmoid, .droppath, .layerscale, .embed, .posembed,
      .typeembed, .clstoken, .tokens, .take, .upsample, .pad, .shuffle, .mul, .slice, .deconv, .moe:
      return false
    }
  }
}
