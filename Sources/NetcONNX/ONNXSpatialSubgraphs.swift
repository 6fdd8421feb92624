import NetcBackends
import NetcIR

/// UPSAMPLE, PAD and SHUFFLE: the spatial rearrangements.
extension ONNXGraphBuilder {
  /// Whether any extent of node `id` is an expression of a free var.
  func symbolicShape(_ id: Int) -> Bool {
    symbolic?.nodes[id].shape?.contains { $0.constant == nil } ?? false
  }

  /// A Reshape target for node `id`'s shape in `layout`: a constant (0 copies the batch)
  /// when its extents are numbers, which shape inference keeps; else `Shape(like)`.
  mutating func shapeOf(_ id: Int, layout: ONNXLayout, _ like: String) -> String {
    let name = "\(names[id])/shape"
    if !symbolicShape(id) { return ints("\(names[id]).shape", [0] + layout.order(shapes[id])) }
    step("Shape", [like], name)
    return name
  }

  /// UPSAMPLE as Resize: `nearest` is PyTorch's floor(dst * in / out) (`asymmetric`,
  /// `floor`), `bilinear` its `align_corners=False` (`pytorch_half_pixel`). A scale factor
  /// is Resize's `scales`; so is a target size whose out / in ratios give it back in float
  /// arithmetic as ONNX Runtime computes it (shape inference then keeps the numbers); any
  /// other size is Resize's `sizes`, after the batch and channels.
  mutating func upsample(_ node: Node, _ x: String, _ out: String) {
    let p = node.name, r = shapes.nodes[node.id], spatial = r.shape.count - 1
    let attributes: [Attribute] =
      node.attributes.upsampleMode == .bilinear
      ? [.string("mode", "linear"), .string("coordinate_transformation_mode", "pytorch_half_pixel")]
      : [.string("mode", "nearest"), .string("coordinate_transformation_mode", "asymmetric"), .string("nearest_mode", "floor")]
    let inSpatial = shapes[node.inputs[0]].dropLast(), outSpatial = r.shape.dropLast()
    var scales = zip(inSpatial, outSpatial).map { Float($1) / Float($0) }
    if let s = node.attributes.count?.expr.constant, node.attributes.integer(.size) == nil {
      scales = [Float](repeating: Float(s), count: spatial)
    }
    let exact = zip(inSpatial, zip(outSpatial, scales)).allSatisfy { i, os in Int(Float(i) * os.1) == os.0 }
    if node.attributes.integer(.size) == nil || (exact && !symbolicShape(node.id)) {
      let t = Tensor<Float>(shape: [spatial + 2], data: [1, 1] + scales)
      return add("Resize", node, [x, "", tensor("\(p).scales", t)], out, attributes)
    }
    step("Shape", [x], "\(p)/batch_channels", [.int("start", 0), .int("end", 2)])
    step("Concat", ["\(p)/batch_channels", ints("\(p).size", Array(outSpatial))], "\(p)/sizes", [.int("axis", 0)])
    add("Resize", node, [x, "", "", "\(p)/sizes"], out, attributes)
  }

  /// PAD: zeros before and after each spatial axis (`Pad`'s `[begins..., ends...]`, zero
  /// for the batch and channels). A begin written with a var is the total less a constant
  /// end, or half the total, as the interpreter reads it.
  mutating func pad(_ node: Node, _ x: String, _ out: String) {
    let inShape = shapes[node.inputs[0]], outShape = shapes[node.id], axes = inShape.count - 1
    var begin = [Int](repeating: 0, count: axes)
    if case .explicit(let b, let e) = node.attributes.padding {
      func pick(_ v: [SymValue], _ axis: Int) -> Int? { v.isEmpty ? 0 : (v.count == 1 ? v[0] : v[axis]).expr.constant }
      for axis in 0..<axes {
        let total = outShape[axis] - inShape[axis]
        begin[axis] = pick(b, axis) ?? pick(e, axis).map { total - $0 } ?? total / 2
      }
    }
    let end = (0..<axes).map { outShape[$0] - inShape[$0] - begin[$0] }
    add("Pad", node, [x, ints("\(node.name).pads", [0, 0] + begin + [0, 0] + end)], out, [.string("mode", "constant")])
  }

  /// SHUFFLE-G (`nn.ChannelShuffle`): the channels viewed as `[G][C/G]`, transposed, and
  /// reshaped back to the input's shape.
  mutating func shuffle(_ node: Node, _ x: String, channelAxis: Int, _ out: String) {
    let p = node.name, c = shapes[node.id].last!, rank = shapes[node.id].count
    let g = node.attributes.count?.expr.constant ?? 1
    let (view, perm): ([Int], [Int])
    if rank == 1 {
      (view, perm) = ([0, g, c / g], [0, 2, 1])
    } else if channelAxis == 1 {
      (view, perm) = ([0, g, c / g, -1], [0, 2, 1, 3])
    } else {
      (view, perm) = ([0, -1, g, c / g], [0, 1, 3, 2])
    }
    step("Reshape", [x, ints("\(p).groups", view)], "\(p)/groups")
    step("Transpose", ["\(p)/groups"], "\(p)/swapped", [.ints("perm", perm)])
    add("Reshape", node, ["\(p)/swapped", shapeOf(node.id, layout: channelAxis == 1 ? .channelsFirst : .channelsLast, x)], out)
  }
}
