import NetcBackends
import NetcIR

/// The sequence layers that move rows of `[N, T, C]`: position embeddings, the class token,
/// and TOKENS, which turns a feature map into a sequence.
extension ONNXGraphBuilder {
  /// POSEMBED: the first T rows of the table added to every sequence. The table is learned,
  /// or Vaswani et al.'s sinusoids written as a constant initializer; when T is free (or
  /// shorter than the table) the rows are sliced at run time from the input's length.
  mutating func positionEmbedding(_ node: Node, _ x: String, _ out: String) {
    let p = node.name, r = shapes.nodes[node.id]
    let (length, width) = (r.shape[0], r.shape[1])
    let symbolicLength = symbolic?.nodes[node.id].shape.map { $0[0].constant == nil } ?? false
    var rows = node.attributes.count?.expr.constant ?? length
    let table: String
    if r.noParameters {
      // A free length runs up to its vars' largest values, so the sinusoids' constant has
      // as many rows (within `maxSinusoidRows`).
      if symbolicLength, let longest = longestLength(node) { rows = Swift.max(rows, longest) }
      table = tensor("\(p).table", Tensor(shape: [rows, width], data: SequenceOps.sinusoidal(length: rows, channels: width)))
    } else {
      table = weight(node, .weight)
    }
    if rows == length && !symbolicLength { return add("Add", node, [x, table], out) }
    step("Shape", [x], "\(p)/length", [.int("start", 1), .int("end", 2)])
    step("Slice", [table, ints("\(p).start", [0]), "\(p)/length", ints("\(p).axis", [0])], "\(p)/rows")
    add("Add", node, [x, "\(p)/rows"], out)
  }

  /// The most rows a sinusoid table of a free length gets (16 MiB at width 512).
  static let maxSinusoidRows = 8_192

  /// The sequence length of `node` with every var at the top of its domain (at most
  /// `maxSinusoidRows`); nil when a var has no bounded domain.
  func longestLength(_ node: Node) -> Int? {
    guard let expr = symbolic?.nodes[node.id].shape?[0] else { return nil }
    var env: [String: Int] = [:]
    for name in expr.variables {
      guard let v = graph.vars.first(where: { $0.name == name }), let domain = v.domain else { return nil }
      switch domain {
      case .range(let r): env[name] = r.upperBound
      case .list(let values): env[name] = values.max() ?? 1
      }
    }
    guard let n = try? expr.evaluate(env) else { return nil }
    return Swift.min(n, Self.maxSinusoidRows)
  }

  /// CLSTOKEN: the learned `[1, 1, C]` token (torchvision's `class_token`) expanded over
  /// the batch and put in front of the sequence.
  mutating func classToken(_ node: Node, _ x: String, _ out: String) {
    let p = node.name, w = parameters[node.id]!.weight!
    let token = tensor("\(p).weight", Tensor(shape: [1, 1, w.count], data: w.data))
    step("Shape", [x], "\(p)/batch", [.int("start", 0), .int("end", 1)])
    step("Concat", ["\(p)/batch", ints("\(p).row", [1, w.count])], "\(p)/expanded_shape", [.int("axis", 0)])
    step("Expand", [token, "\(p)/expanded_shape"], "\(p)/expanded")
    add("Concat", node, ["\(p)/expanded", x], out, [.int("axis", 1)])
  }

  /// TOKENS: `[N, C, H, W]` flattened to `[N, C, H*W]` and transposed to `[N, H*W, C]`
  /// (ViT's `x.reshape(n, c, -1).permute(0, 2, 1)`); channels last needs the reshape only.
  mutating func tokens(_ node: Node, _ source: Int, _ out: String) {
    let p = node.name, c = shapes[source].last!
    if shapes[source].count <= 2 { return add("Identity", node, [value(source, .channelsLast)], out) }
    if layouts[source] == .channelsLast {
      return add("Reshape", node, [value(source, .channelsLast), ints("\(p).shape", [0, -1, c])], out)
    }
    step("Reshape", [value(source, .channelsFirst), ints("\(p).shape", [0, c, -1])], "\(p)/flat")
    add("Transpose", node, ["\(p)/flat"], out, [.ints("perm", [0, 2, 1])])
  }
}
