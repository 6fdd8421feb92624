import NetcBackends
import NetcDiagnostics
import NetcIR
import NetcPasses

/// The layers that work over the channel axis in either layout: LINEAR, RMSNORM and the
/// broadcasting `mul` merge.
extension ONNXGraphBuilder {
  /// LINEAR: Gemm on a vector, a 1x1 Conv on channels first, MatMul (+ Add) on channels
  /// last with the weight stored `[in][out]` as torch.onnx stores it. A tied layer reads its
  /// owner's initializer, through a Transpose when the owner keeps it `[out][in]`.
  mutating func linear(_ node: Node, _ x: String, _ layout: ONNXLayout, _ out: String) throws(DiagnosticError) {
    let p = parameters[node.id], inRank = shapes[node.inputs[0]].count
    var tied: (name: String, transposed: Bool)?
    if let o = node.attributes.tiedTo {
      guard let s = stored[o] else { throw refusal(node, "a LINEAR tied to a layer whose weight is not exported") }
      tied = s
    }
    func bias() -> String? { p?.bias.map { tensor("\(node.name).bias", $0) } }
    if inRank == 1 {
      let w: String, transB: Int
      if let owner = tied {
        (w, transB) = (owner.name, owner.transposed ? 0 : 1)
      } else {
        (w, transB) = (tensor("\(node.name).weight", p!.weight!), 1)
        stored[node.id] = (w, transposed: false)
      }
      add("Gemm", node, [x, w] + (bias().map { [$0] } ?? []), out, [.int("transB", transB)])
      return
    }
    if layout == .channelsFirst {
      guard tied == nil && p?.weight != nil, let wt = p?.weight else {
        throw refusal(node, "a tied LINEAR over the channels of a spatial tensor")
      }
      // Over channels, which are axis 1 here: a 1x1 conv, its weight [out][in][1...].
      let ones = [Int](repeating: 1, count: inRank - 1)
      var args = [x, tensor("\(node.name).weight", Tensor(shape: wt.shape + ones, data: wt.data))]
      if let b = bias() { args.append(b) }
      add("Conv", node, args, out, [.ints("kernel_shape", ones)])
      return
    }
    let w: String
    if let owner = tied {
      if owner.transposed {
        w = owner.name
      } else {
        w = "\(node.name)/weight_t"
        step("Transpose", [owner.name], w, [.ints("perm", [1, 0])])
      }
    } else {
      w = tensor("\(node.name).weight", transposedMatrix(p!.weight!))
      stored[node.id] = (w, transposed: true)
    }
    matMulAdd(x, w, bias(), out, name: node.name)
  }

  /// `x @ w (+ b)`; the last node is named `name`.
  mutating func matMulAdd(_ x: String, _ w: String, _ b: String?, _ out: String, name: String) {
    guard let b else { return step("MatMul", [x, w], out, name: name) }
    step("MatMul", [x, w], "\(out)/matmul")
    step("Add", ["\(out)/matmul", b], out, name: name)
  }

  /// A `[out][in]` weight as `[in][out]`.
  func transposedMatrix(_ t: Tensor<Float>) -> Tensor<Float> {
    let (rows, cols) = (t.shape[0], t.shape[1])
    var data = [Float](repeating: 0, count: t.data.count)
    for i in 0..<rows { for j in 0..<cols { data[j * rows + i] = t.data[i * cols + j] } }
    return Tensor(shape: [cols, rows], data: data)
  }

  /// RMSNORM (Zhang and Sennrich 2019, as Hugging Face's LlamaRMSNorm): x / sqrt(mean(x²) +
  /// eps) * γ over the channel axis; opset 17 has no RMSNormalization.
  mutating func rmsNorm(_ node: Node, _ x: String, channelAxis: Int, rank: Int, _ out: String) {
    let p = node.name, g = parameters[node.id]!.gamma!
    step("Mul", [x, x], "\(p)/square")
    // From opset 18 ReduceMean reads its axes as an input.
    if opset >= 18 {
      step("ReduceMean", ["\(p)/square", ints("\(p).axes", [channelAxis])], "\(p)/mean", [.int("keepdims", 1)])
    } else {
      step("ReduceMean", ["\(p)/square"], "\(p)/mean", [.ints("axes", [channelAxis]), .int("keepdims", 1)])
    }
    step("Add", ["\(p)/mean", scalar("\(p).eps", node.attributes.epsilon)], "\(p)/var_eps")
    step("Sqrt", ["\(p)/var_eps"], "\(p)/rms")
    step("Div", [x, "\(p)/rms"], "\(p)/normalized")
    let trailing = [Int](repeating: 1, count: rank - channelAxis)
    add("Mul", node, ["\(p)/normalized", tensor("\(p).gamma", Tensor(shape: g.shape + trailing, data: g.data))], out)
  }

  /// `mul`: ONNX broadcasts from the last axis, as netc does, but the batch axis in front
  /// misaligns a lower-rank factor, so each one is unsqueezed to the full rank first (after
  /// the batch on channels last, after the channels on channels first).
  mutating func mul(_ node: Node, _ layout: ONNXLayout, _ out: String) {
    let rank = shapes[node.id].count
    var factors: [String] = []
    for (k, id) in node.inputs.enumerated() {
      let x = value(id, layout), r = shapes[id].count
      if r == rank {
        factors.append(x)
        continue
      }
      let from = layout == .channelsLast || r == 0 ? 1 : 2
      let axes = Array(from..<(from + rank - r))
      let u = "\(node.name)/unsqueeze\(k)"
      step("Unsqueeze", [x, ints("\(node.name).axes\(k)", axes)], u)
      factors.append(u)
    }
    var acc = factors[0]
    for (k, other) in factors.dropFirst().enumerated() {
      let target = k == factors.count - 2 ? out : "\(node.name)/mul\(k)"
      add("Mul", node, [acc, other], target, name: k == factors.count - 2 ? nil : target)
      acc = target
    }
  }
}
