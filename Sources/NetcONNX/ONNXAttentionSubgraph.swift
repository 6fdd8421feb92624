import Foundation
import NetcBackends
import NetcDiagnostics
import NetcIR

/// ATTN as the standard subgraph torch.onnx writes for `nn.MultiheadAttention` and Hugging
/// Face's attention: projections as MatMul + Add, heads split by Reshape and Transpose,
/// `softmax(q kᵀ / sqrt(D) + mask) v`, heads merged, the output projection. Grouped-query
/// heads share a key/value head through a broadcast axis instead of a copy.
extension ONNXGraphBuilder {
  mutating func attention(_ node: Node, _ inputs: [String], _ out: String) throws(DiagnosticError) {
    let p = node.name, r = shapes.nodes[node.id]
    let (h, kv, d) = (r.heads, r.kvHeads, r.headDim)
    let g = h / kv
    let x = inputs[0], memory = inputs.count > 1 ? inputs[1] : inputs[0]
    let q = projection(node, x, .wq, .bq, "\(p)/q_proj")
    let k = projection(node, memory, .wk, .bk, "\(p)/k_proj")
    let v = projection(node, memory, .wv, .bv, "\(p)/v_proj")
    // [N, T, H*D] -> [N, T, H, D]; rotary positions turn each head's pairs.
    var qHeads = reshape(q, [0, 0, h, d], "\(p)/q_heads")
    var kHeads = reshape(k, [0, 0, kv, d], "\(p)/k_heads")
    let vHeads = reshape(v, [0, 0, kv, d], "\(p)/v_heads")
    if node.attributes.rotary {
      qHeads = rotate(qHeads, dim: d, theta: node.attributes.ropeTheta, "\(p)/q_rope")
      kHeads = rotate(kHeads, dim: d, theta: node.attributes.ropeTheta, "\(p)/k_rope")
    }
    let qt: String, kt: String, vt: String
    if g == 1 {
      qt = transpose(qHeads, [0, 2, 1, 3], "\(p)/q_t")  // [N, H, T, D]
      kt = transpose(kHeads, [0, 2, 3, 1], "\(p)/k_t")  // [N, H, D, S]
      vt = transpose(vHeads, [0, 2, 1, 3], "\(p)/v_t")  // [N, H, S, D]
    } else {
      // Query head h reads kv head h / G: queries as [N, Kv, G, T, D], keys and values
      // with a G axis of 1 that MatMul broadcasts.
      let grouped = reshape(qHeads, [0, 0, kv, g, d], "\(p)/q_groups")
      qt = transpose(grouped, [0, 2, 3, 1, 4], "\(p)/q_t")
      kt = unsqueeze(transpose(kHeads, [0, 2, 3, 1], "\(p)/k_t"), [2], "\(p)/k_shared")
      vt = unsqueeze(transpose(vHeads, [0, 2, 1, 3], "\(p)/v_t"), [2], "\(p)/v_shared")
    }
    step("MatMul", [qt, kt], "\(p)/scores")
    step("Mul", ["\(p)/scores", scalar("\(p).scale", 1 / Double(d).squareRoot())], "\(p)/scaled")
    var logits = "\(p)/scaled"
    if node.attributes.causal {
      // Key j is visible to query i when j <= i: the lower triangle of a T x S matrix of
      // trues, the rest -inf.
      step("Shape", [logits], "\(p)/mask_shape", [.int("start", -2)])
      var one = int64Tensor("", [], dims: [1])
      one.dataType = Int32(Onnx_TensorProto.DataType.bool.rawValue)
      one.int32Data = [1]
      one.int64Data = []
      step("ConstantOfShape", ["\(p)/mask_shape"], "\(p)/ones", [.tensor("value", one)])
      step("Trilu", ["\(p)/ones"], "\(p)/mask", [.int("upper", 0)])
      step("Where", ["\(p)/mask", logits, scalar("\(p).masked", -Double.infinity)], "\(p)/masked_scores")
      logits = "\(p)/masked_scores"
    }
    step("Softmax", [logits], "\(p)/probs", [.int("axis", -1)])
    step("MatMul", ["\(p)/probs", vt], "\(p)/context")
    let merged = transpose("\(p)/context", g == 1 ? [0, 2, 1, 3] : [0, 3, 1, 2, 4], "\(p)/context_t")
    let flat = reshape(merged, [0, 0, h * d], "\(p)/merged")
    let params = parameters[node.id]!
    let wo = tensor("\(p).wo", transposedMatrix(params[.wo]!))
    matMulAdd(flat, wo, params[.bo].map { tensor("\(p).bo", $0) }, out, name: p)
  }

  /// A projection `x @ Wᵀ (+ b)`, its weight stored `[in][out]`.
  mutating func projection(_ node: Node, _ x: String, _ w: ParameterKind, _ b: ParameterKind, _ out: String) -> String {
    let params = parameters[node.id]!
    let weight = tensor("\(node.name).\(w.rawValue)", transposedMatrix(params[w]!))
    let bias = params[b].map { tensor("\(node.name).\(b.rawValue)", $0) }
    matMulAdd(x, weight, bias, out, name: out)
    return out
  }

  /// Rotary embedding of `[N, L, heads, D]` in Hugging Face Llama's form: `x cos + rotate_half(x)
  /// sin`, with angles `position * theta^(-2i/D)` (the layer's `theta`) for the first half, repeated for the second,
  /// positions 0..<L from the tensor's own length.
  mutating func rotate(_ x: String, dim d: Int, theta: Double, _ p: String) -> String {
    let half = d / 2
    let inverse = (0..<half).map { Float(pow(theta, -Double(2 * $0) / Double(d))) }
    step("Shape", [x], "\(p)/length", [.int("start", 1), .int("end", 2)])
    step("Squeeze", ["\(p)/length", ints("\(p).axis0", [0])], "\(p)/count")
    step("Range", [intScalar("\(p).zero", 0), "\(p)/count", intScalar("\(p).step", 1)], "\(p)/positions_int")
    step("Cast", ["\(p)/positions_int"], "\(p)/positions", [.int("to", Int(Onnx_TensorProto.DataType.float.rawValue))])
    step("Unsqueeze", ["\(p)/positions", ints("\(p).axis1", [1])], "\(p)/column")
    step("Mul", ["\(p)/column", tensor("\(p).inv_freq", Tensor(shape: [half], data: inverse))], "\(p)/freqs")
    step("Concat", ["\(p)/freqs", "\(p)/freqs"], "\(p)/angles_2d", [.int("axis", -1)])
    step("Unsqueeze", ["\(p)/angles_2d", ints("\(p).axis_heads", [1])], "\(p)/angles")  // [L, 1, D]
    step("Cos", ["\(p)/angles"], "\(p)/cos")
    step("Sin", ["\(p)/angles"], "\(p)/sin")
    let last = ints("\(p).last", [-1])
    step("Slice", [x, ints("\(p).lo", [0]), ints("\(p).mid", [half]), last], "\(p)/x1")
    step("Slice", [x, ints("\(p).mid2", [half]), ints("\(p).hi", [d]), last], "\(p)/x2")
    step("Neg", ["\(p)/x2"], "\(p)/neg_x2")
    step("Concat", ["\(p)/neg_x2", "\(p)/x1"], "\(p)/rotated_half", [.int("axis", -1)])
    step("Mul", [x, "\(p)/cos"], "\(p)/x_cos")
    step("Mul", ["\(p)/rotated_half", "\(p)/sin"], "\(p)/rotated_sin")
    step("Add", ["\(p)/x_cos", "\(p)/rotated_sin"], p)
    return p
  }

  mutating func reshape(_ x: String, _ shape: [Int], _ out: String) -> String {
    step("Reshape", [x, ints("\(out).shape", shape)], out)
    return out
  }

  mutating func transpose(_ x: String, _ perm: [Int], _ out: String) -> String {
    step("Transpose", [x], out, [.ints("perm", perm)])
    return out
  }

  mutating func unsqueeze(_ x: String, _ axes: [Int], _ out: String) -> String {
    step("Unsqueeze", [x, ints("\(out).axes", axes)], out)
    return out
  }
}
