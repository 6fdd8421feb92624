import CNetcKernels
import NetcIR
import NetcPasses

/// A last-axis linear layer's fp32 weight held only in `CNetcKernels`' GEMM panels (Wᵀ in
/// panels of 32 output columns), packed once when a forward-only interpreter is built
/// (`Interpreter(forwardOnly:)`, `netc run` without `--grad`). `netc_linear` packs W block
/// by block on every call instead, reading the `[out][in]` copy from memory each time: at
/// GPT-2's T = 128 that pack was a fifth of the GEMM's time; ONNX Runtime, too, packs its
/// constant weights once when its session is made. The panels replace the `[out][in]`
/// copy, so the weights are still held once.
struct PackedLinear: Sendable {
  /// `netc_packed_size(inputs, outputs)` floats.
  let panels: [Float]
  let inputs: Int, outputs: Int

  /// Whether this machine's kernels take packed weights (AVX2 or AVX-512).
  static var available: Bool { netc_kernel_level() >= 1 }

  /// `w` (`[out][in]`, `outputs x inputs`) packed, the panels split over the threads.
  init(_ w: [Float], inputs n: Int, outputs m: Int, threads: Int) {
    inputs = n
    outputs = m
    let count = netc_packed_size(n, m), panel = Int(NETC_PANEL)
    let panelCount = (m + panel - 1) / panel
    panels = [Float](unsafeUninitializedCapacity: count) { pb, initialized in
      let ps = SharedPointer(base: pb.baseAddress!)
      w.withUnsafeBufferPointer { wb in
        let ws = SharedPointer(base: UnsafeMutablePointer(mutating: wb.baseAddress!))
        // A share of whole panels per unit: each panel reads only its own 32 rows.
        let units = min(panelCount, 4 * max(1, threads)), per = (panelCount + units - 1) / units
        parallelFor(units, threads: threads, cost: m &* n) { u in
          let p0 = u * per, p1 = min(panelCount, p0 + per)
          guard p0 < p1 else { return }
          let j0 = p0 * panel, j1 = min(m, p1 * panel)
          netc_pack_rows(UnsafePointer(ws.base) + j0 * n, n, n, j1 - j0, ps.base + j0 * n)
        }
      }
      initialized = count
    }
  }

  /// `y = x Wᵀ + bias` for `rows` rows of `x`, `lda` apart (`y` is `rows x outputs`, every
  /// element written), the output columns split over the threads in blocks of whole panels.
  func forward(
    _ x: UnsafePointer<Float>, rows: Int, lda: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
    threads: Int
  ) {
    guard rows > 0, outputs > 0 else { return }
    let (width, blocks) = LastAxisLinear.columnBlocks(in: inputs, out: outputs, threads: threads)
    // Rows a multiple of 2 KB apart spread out once, here, not by every block's GEMM.
    var spread = lda
    let x = netc_rows_apart(x, lda, rows, inputs, &spread)!, ld = spread
    let xs = SharedPointer(base: UnsafeMutablePointer(mutating: x)), ys = SharedPointer(base: y)
    let bs = bias.map { SharedPointer(base: UnsafeMutablePointer(mutating: $0)) }
    panels.withUnsafeBufferPointer { pb in
      let ps = SharedPointer(base: UnsafeMutablePointer(mutating: pb.baseAddress!))
      parallelFor(blocks, threads: threads, cost: rows &* outputs &* inputs) { b in
        let j0 = b * width, j1 = min(outputs, j0 + width)
        let done = netc_gemm_packed(
          UnsafePointer(xs.base), ld, UnsafePointer(ps.base), inputs, outputs, ys.base, outputs, bs.map { UnsafePointer($0.base) },
          nil, 0, 0, rows, j0, j1)
        precondition(done != 0, "packed weights exist only where the packed GEMM runs")
      }
    }
  }

  /// W's row `j` (an `EMBED` sharing the weight by `tie` reads its table's rows here):
  /// its values sit 32 apart in panel j / 32.
  func row(_ j: Int, into out: inout [Float]) {
    let base = (j / Int(NETC_PANEL)) * inputs * Int(NETC_PANEL) + j % Int(NETC_PANEL)
    panels.withUnsafeBufferPointer { pb in
      for l in 0..<inputs { out.append(pb[base + l * Int(NETC_PANEL)]) }
    }
  }

  /// W `[out][in]` again.
  var matrix: [Float] {
    var w: [Float] = []
    w.reserveCapacity(outputs * inputs)
    for j in 0..<outputs { row(j, into: &w) }
    return w
  }
}

extension PackedLinear {
  /// Packs the weights a forward-only fp32 interpreter multiplies through `LastAxisLinear`
  /// (LINEAR's, a router's, attention's four projections) and drops each from
  /// `parameters` as it goes, so that one layer's `[out][in]` copy at most exists next to
  /// the panels. A weight shared by `tie` is packed once for every layer sharing it when
  /// they are all LINEAR, router or EMBED layers (an EMBED reads its rows from the panels);
  /// else it stays as it is. An expert's layers keep theirs: each expert's part is cut
  /// from the stacked tensor when the expert runs.
  static func pack<T: TensorScalar>(_ graph: Graph, _ shapes: Shapes, _ parameters: inout [LayerParameters<T>?], threads: Int)
    -> [Int: [ParameterKind: PackedLinear]]
  {
    guard T.self == Float.self else { return [:] }
    var packed: [Int: [ParameterKind: PackedLinear]] = [:]
    // The owner of each tied weight's tensor, and the layers sharing it.
    func root(_ id: Int) -> Int {
      var r = id
      while let t = graph.nodes[r].attributes.tiedTo { r = t }
      return r
    }
    var sharing: [Int: [Int]] = [:]
    for node in graph.layers where node.op.definition.parameters.contains(where: { $0.kind == .weight }) {
      sharing[root(node.id), default: []].append(node.id)
    }
    /// Packs the `[out][in]` tensor `kind` of `ids` (one tensor, shared) and drops it.
    func take(_ ids: [Int], _ kind: ParameterKind) {
      guard let t = parameters[ids[0]]?[kind], t.shape.count == 2 else { return }
      for id in ids { parameters[id]![kind] = nil }
      let p = PackedLinear(unsafeBitCast(t.data, to: [Float].self), inputs: t.shape[1], outputs: t.shape[0], threads: threads)
      for id in ids { packed[id, default: [:]][kind] = p }
    }
    for node in graph.layers where shapes.nodes[node.id].experts == 1 {
      switch node.op {
      case .attention:
        for kind in [ParameterKind.wq, .wk, .wv, .wo] { take([node.id], kind) }
      case .linear, .router, .embed:
        // Each shared tensor once, at its owner.
        guard root(node.id) == node.id, let ids = sharing[node.id] else { continue }
        let ops = ids.map { graph.nodes[$0].op }
        guard ops.contains(where: { $0 == .linear || $0 == .router }),
          ops.allSatisfy({ $0 == .linear || $0 == .router || $0 == .embed }), ids.allSatisfy({ shapes.nodes[$0].experts == 1 })
        else { continue }
        take(ids, .weight)
      case .input, .conv, .dwconv, .pwconv, .maxpool, .avgpool, .gap, .gmp, .fc, .flatten, .bn, .relu, .relu6, .sigmoid, .tanh,
        .softmax, .gelu, .identity, .leakyrelu, .dropout, .add, .concat, .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid,
        .droppath, .layerscale, .posembed, .typeembed, .clstoken, .tokens, .take, .upsample, .pad, .shuffle, .mul, .slice, .deconv,
        .moe:
        continue
      }
    }
    return packed
  }
}

extension Interpreter {
  /// Node `id`'s `[out][in]` weight `kind` as the interpreter holds it: packed in a
  /// forward-only fp32 interpreter, else the tensor's rows.
  func linearWeight(_ id: Int, _ kind: ParameterKind) -> LinearWeight<T> {
    if let p = linearPanels[id]?[kind] { return .packed(p) }
    return .rows(parameters[id]![kind]!.data)
  }

  /// This interpreter with its packed weights back in `parameters`, `[out][in]`, for the
  /// gradients (which multiply by W, not Wᵀ).
  func unpackingLinearWeights() -> Interpreter<T> {
    var full = self
    for (id, kinds) in linearPanels {
      for (kind, p) in kinds {
        var mine = full.parameters[id] ?? LayerParameters<T>()
        mine[kind] = Tensor(shape: [p.outputs, p.inputs], data: LinearWeight<T>.packed(p).matrix)
        full.parameters[id] = mine
      }
    }
    full.linearPanels = [:]
    return full
  }
}
