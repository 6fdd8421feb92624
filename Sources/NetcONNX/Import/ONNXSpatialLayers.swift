import NetcBackends
import NetcDiagnostics
import NetcIR

/// ConvTranspose, Resize and Pad as DECONV, UPSAMPLE and PAD.
extension ONNXLayerRecognizer {
  /// ConvTranspose: the weight `[Cin][Cout/groups][k...]` is netc's DECONV layout; out =
  /// (in - 1) * stride - pads + dilation * (k - 1) + output_padding + 1.
  mutating func convTranspose(_ a: ONNXAttributes) throws(DiagnosticError) {
    let x = try input(0)
    try spatial(x)
    guard let w = try constantInput(1) else { throw unsupported(node: "has no weight") }
    let inShape = layers[x].shape, r = inShape.count - 1, cin = inShape[0]
    guard w.shape.count == r + 2, w.shape[0] == cin else {
      throw unsupported(node: "has a weight of shape \(w.shape) for \(cin) input channels and \(r) spatial axes")
    }
    let groups = a.int("group") ?? 1
    guard groups >= 1, cin % groups == 0, w.shape[1] >= 1 else { throw unsupported(node: "has \(groups) groups on \(cin) channels") }
    let (cout, overflow) = w.shape[1].multipliedReportingOverflow(by: groups)
    guard !overflow else { throw unsupported(node: "has \(groups) groups of \(w.shape[1]) filters, which overflows") }
    if a.has("output_shape") {
      throw unsupported(node: "gives output_shape; netc imports a ConvTranspose with pads and output_padding")
    }
    let autoPad = a.string("auto_pad") ?? "NOTSET"
    guard autoPad == "NOTSET" || autoPad == "VALID" || autoPad.isEmpty else {
      throw unsupported(node: "has auto_pad `\(autoPad.prefix(20))`; netc imports a ConvTranspose with explicit pads")
    }
    let kernel = Array(w.shape.dropFirst(2))
    if let k = a.ints("kernel_shape"), k != kernel { throw unsupported(node: "has kernel_shape \(k) but a weight of \(w.shape)") }
    let limit = 1 << 20
    func axes(_ key: String, _ fallback: Int, count: Int, min: Int) throws(DiagnosticError) -> [Int] {
      let v = a.ints(key) ?? [Int](repeating: fallback, count: count)
      guard v.count == count, v.allSatisfy({ $0 >= min && $0 <= limit }) else {
        throw unsupported(node: "has \(key) \(v.prefix(8)); netc expects \(count) values from \(min) to \(limit)")
      }
      return v
    }
    guard kernel.allSatisfy({ $0 >= 1 && $0 <= limit }) else { throw unsupported(node: "has kernel \(kernel.prefix(8))") }
    let stride = try axes("strides", 1, count: r, min: 1), dilation = try axes("dilations", 1, count: r, min: 1)
    let pads = autoPad == "VALID" ? [Int](repeating: 0, count: 2 * r) : try axes("pads", 0, count: 2 * r, min: 0)
    let outpad = try axes("output_padding", 0, count: r, min: 0)
    for i in 0..<r where outpad[i] >= max(stride[i], dilation[i]) {
      throw unsupported(
        node: "has output_padding \(outpad[i]) on axis \(i + 2), not below its stride or dilation (PyTorch's rule, and netc's)")
    }
    var out: [Int] = []
    for i in 0..<r {
      // Each term is below 2^20 * 2^24: no overflow in 64 bits.
      let o = (inShape[i + 1] - 1) * stride[i] - pads[i] - pads[r + i] + dilation[i] * (kernel[i] - 1) + outpad[i] + 1
      guard o >= 1, o <= Self.maxExtent else { throw unsupported(node: "gives an output extent of \(o) on axis \(i + 2)") }
      out.append(o)
    }
    let window = Window(stride: stride, dilation: dilation, padBegin: Array(pads[..<r]), padEnd: Array(pads[r...]), out: out, ceil: false)
    var options = window.options(pool: false, kernel: kernel)
    if groups > 1 { options.append("groups \(groups)") }
    if outpad.contains(where: { $0 != 0 }) { options.append("outpad " + Self.perAxis(outpad)) }
    let bias = try constantInput(2)
    if let b = bias, b.floats.count != cout { throw unsupported(node: "has a bias of \(b.floats.count) values for \(cout) filters") }
    let id = add(.deconv, "DECONV\(Self.extents(kernel))-\(cout)", [x], [cout] + out, options: options, weight: node.input[1])
    layers[id].bias = bias != nil
    layers[id].parameters = [(.weight, w.tensor)] + (bias.map { [(.bias, Tensor(shape: [cout], data: $0.floats))] } ?? [])
  }

  /// Resize as UPSAMPLE: `nearest` with `asymmetric` coordinates and `floor` (PyTorch's
  /// nearest), `linear` with `pytorch_half_pixel` (or `half_pixel`, the same where no
  /// output extent is 1) as `bilinear`. Scales give out = floor(in * scale), as ONNX says.
  mutating func resize(_ a: ONNXAttributes) throws(DiagnosticError) {
    let x = try input(0)
    try spatial(x)
    let inShape = layers[x].shape, r = inShape.count - 1
    let mode = a.string("mode") ?? "nearest"
    let transform = a.string("coordinate_transformation_mode") ?? "half_pixel"
    if (a.int("antialias") ?? 0) != 0 || a.has("axes") || (a.string("keep_aspect_ratio_policy") ?? "stretch") != "stretch" {
      throw unsupported(node: "has antialias, axes or a keep_aspect_ratio_policy; netc's UPSAMPLE resizes every spatial axis plainly")
    }
    let scaleInput = opset >= 11 ? 2 : 1
    var out: [Int]
    if let sizes = try constantInput(3), !sizes.floats.isEmpty {
      guard let v = sizes.integers, v.count == r + 2, v[1] == inShape[0] else {
        throw unsupported(node: "has sizes \(sizes.floats.prefix(8)); netc expects [N, \(inShape[0]), extents...]")
      }
      out = Array(v.dropFirst(2))
    } else if let scales = try constantInput(scaleInput), scales.floats.count == r + 2 {
      let f = scales.floats
      guard f[0] == 1, f[1] == 1, f.dropFirst(2).allSatisfy({ $0.isFinite && $0 > 0 && $0 <= 65536 }) else {
        throw unsupported(node: "has scales \(f.prefix(8)); netc scales the spatial axes only, each by a positive factor")
      }
      out = (0..<r).map { Int((Float(inShape[$0 + 1]) * f[$0 + 2]).rounded(.down)) }
    } else {
      throw unsupported(node: "has neither constant scales nor constant sizes for its \(r + 2) axes")
    }
    guard out.allSatisfy({ $0 >= 1 && $0 <= Self.maxExtent }) else { throw unsupported(node: "resizes to \(out)") }
    var options: [String] = []
    switch mode {
    case "nearest" where transform == "asymmetric" && (a.string("nearest_mode") ?? "round_prefer_floor") == "floor":
      break
    case "linear" where transform == "pytorch_half_pixel" || (transform == "half_pixel" && !out.contains(1)):
      options.append("mode bilinear")
    default:
      throw unsupported(
        node:
          "resizes by `\(mode.prefix(20))` with `\(transform.prefix(30))` coordinates; netc's UPSAMPLE is PyTorch's nearest (asymmetric, floor) or bilinear (pytorch_half_pixel)"
      )
    }
    let factors = Set(zip(inShape.dropFirst(), out).map { i, o in o % i == 0 ? o / i : 0 })
    let head: String
    if factors.count == 1, let s = factors.first, s >= 1 {
      head = "UPSAMPLE-\(s)"
    } else {
      head = "UPSAMPLE"
      options.insert("size " + out.map(String.init).joined(separator: "x"), at: 0)
    }
    add(.upsample, head, [x], [inShape[0]] + out, options: options)
  }

  /// Pad with zeros around the spatial axes as PAD (the batch and channels untouched).
  mutating func pad(_ a: ONNXAttributes) throws(DiagnosticError) {
    let x = try input(0)
    try spatial(x)
    let inShape = layers[x].shape, r = inShape.count - 1
    guard (a.string("mode") ?? "constant") == "constant" else {
      throw unsupported(node: "pads by `\(a.string("mode")!.prefix(20))`; netc's PAD pads with zeros")
    }
    let pads: [Int]?, value: Float
    if opset < 11 {
      (pads, value) = (a.ints("pads"), a.float("value") ?? 0)
    } else {
      if try constantInput(3) != nil { throw unsupported(node: "pads chosen axes; netc imports pads for every axis") }
      (pads, value) = (try constantInput(1)?.integers, try constantInput(2)?.scalar ?? 0)
    }
    guard value == 0 else { throw unsupported(node: "pads with \(value); netc's PAD pads with zeros") }
    let n = r + 2
    guard let p = pads, p.count == 2 * n, p[0] == 0, p[1] == 0, p[n] == 0, p[n + 1] == 0,
      p.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 })
    else {
      throw unsupported(node: "has pads \(pads?.prefix(12) ?? []); netc pads the spatial axes only, by 0 or more")
    }
    let begin = Array(p[2..<n]), end = Array(p[(n + 2)...])
    let out = (0..<r).map { inShape[$0 + 1] + begin[$0] + end[$0] }
    let head = Set(begin + end).count == 1 ? "PAD-\(begin[0])" : "PAD"
    let options = head == "PAD" ? ["pad " + zip(begin, end).map { "\($0):\($1)" }.joined(separator: ",")] : []
    add(.pad, head, [x], [inShape[0]] + out, options: options)
  }
}
