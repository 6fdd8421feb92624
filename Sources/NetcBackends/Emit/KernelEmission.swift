import NetcIR
import NetcPasses

/// An index expression `v1 * c1 + v2 * c2 + k` with the zero terms left out.
func indexExpr(_ terms: [(String, Int)], _ constant: Int = 0) -> String {
  let parts = terms.filter { $0.1 != 0 }.map { $0.1 == 1 ? $0.0 : "\($0.0) * \($0.1)" }
  if parts.isEmpty { return "\(constant)" }
  let sum = parts.joined(separator: " + ")
  return constant == 0 ? sum : constant > 0 ? "\(sum) + \(constant)" : "\(sum) - \(-constant)"
}

/// Loop variables over ranges; a range of one value opens no loop, and its variable is
/// folded into the constant of index expressions.
struct LoopNest {
  var vars: [(name: String, from: Int, to: Int)]

  init(vars: [(name: String, extent: Int)]) { self.vars = vars.map { ($0.name, 0, $0.extent) } }
  init(ranges: [(name: String, from: Int, to: Int)]) { vars = ranges }

  /// `(name, coefficient)` terms for the variables that loop.
  func terms(_ coefficients: [Int]) -> [(String, Int)] {
    zip(vars, coefficients).filter { $0.0.to - $0.0.from > 1 }.map { ($0.0.name, $0.1) }
  }

  /// `sum(variable * coefficient) + constant`, with the variables that do not loop folded in.
  func index(_ coefficients: [Int], _ constant: Int = 0) -> String {
    let fixed = zip(vars, coefficients).filter { $0.0.to - $0.0.from == 1 }.reduce(0) { $0 + $1.0.from * $1.1 }
    return indexExpr(terms(coefficients), constant + fixed)
  }

  /// Opens the loops, writes `body` inside, closes them. `scoped`: a `do` block stands in
  /// when no loop opens, so that the body's names stay local.
  func write(_ w: inout SourceWriter, scoped: Bool = false, _ body: (inout SourceWriter) -> Void) {
    let open = vars.filter { $0.to - $0.from > 1 }
    if scoped && open.isEmpty {
      w.block("do") { w in body(&w) }
      return
    }
    func level(_ i: Int, _ w: inout SourceWriter) {
      if i == open.count {
        body(&w)
        return
      }
      w.block("for \(open[i].name) in \(open[i].from)..<\(open[i].to)") { w in level(i + 1, &w) }
    }
    level(0, &w)
  }
}

extension Emission {
  /// Vector runs over `count` contiguous elements: `lanes`-wide vectors, then (at width 16)
  /// one 8-wide vector when 8 or more elements remain; the last `count % 8` elements, from
  /// `scalarFrom`, are left to a scalar loop.
  func vectorRuns(_ count: Int) -> (runs: [(width: Int, from: Int, to: Int)], scalarFrom: Int) {
    var runs: [(width: Int, from: Int, to: Int)] = []
    let full = count / lanes * lanes
    if full > 0 { runs.append((lanes, 0, full)) }
    if count - full >= 8 { runs.append((8, full, full + 8)) }
    return (runs, count / 8 * 8)
  }

  /// Writes `body(width)` in a loop of `variable` over each vector run of `count` elements,
  /// then `scalar` in a loop over the tail.
  func vectorLoops(
    _ count: Int, _ variable: String, _ w: inout SourceWriter, body: (Int, inout SourceWriter) -> Void,
    scalar: (inout SourceWriter) -> Void
  ) {
    let (runs, scalarFrom) = vectorRuns(count)
    for run in runs {
      w.block("for \(variable) in stride(from: \(run.from), to: \(run.to), by: \(run.width))") { w in body(run.width, &w) }
    }
    if scalarFrom < count { w.block("for \(variable) in \(scalarFrom)..<\(count)") { w in scalar(&w) } }
  }

  /// Covers a run of `count` pixels with tiles of `tile` pixels (`body(n, ox)` writes a tile
  /// of n pixels at the expression ox). When the run is not a multiple of the tile, the last
  /// tile is moved back to end with the run and recomputes a few pixels: a conv's output
  /// never overlaps its input, so writing them twice is harmless, and the source needs one
  /// tile body instead of two.
  /// Without `overlap`, a remainder tile ends the run instead.
  func overlappingTiles(
    _ count: Int, _ tile: Int, overlap: Bool = true, _ w: inout SourceWriter, _ body: (Int, String, inout SourceWriter) -> Void
  ) {
    if count <= tile {
      body(count, "0", &w)
    } else if !overlap && count % tile != 0 {
      w.block("for t in 0..<\(count / tile)") { w in body(tile, "t * \(tile)", &w) }
      body(count % tile, "\(count / tile * tile)", &w)
    } else if count % tile == 0 {
      w.block("for t in 0..<\(count / tile)") { w in body(tile, "t * \(tile)", &w) }
    } else {
      w.block("for t in 0..<\((count + tile - 1) / tile)") { w in
        w.line("let ox = min(t * \(tile), \(count - tile))")
        body(tile, "ox", &w)
      }
    }
  }

  /// Writes the kernel of `step` as a static function; returns the extra call arguments
  /// (pointers into the weights) after the input and output pointers.
  mutating func emitKernel(_ step: EmitPlan.Step, name: String, macs: inout Int) -> [String] {
    let node = step.node
    var params = step.inputs.count == 1 ? ["_ x: UnsafePointer<Float>"] : step.inputs.indices.map { "_ x\($0): UnsafePointer<Float>" }
    params.append("_ y: UnsafeMutablePointer<Float>")
    var extra: [String] = []
    var body = SourceWriter()
    switch node.op {
    case .conv, .dwconv, .pwconv:
      let g = EmitPlan.geometry(node, shapes)!
      macs = g.outPositions * g.outChannels * g.taps * g.groupIn
      let (wOff, bOff) = convolution(step, g, &body)
      params += ["_ w: UnsafePointer<Float>", "_ b: UnsafePointer<Float>"]
      extra = ["w + \(wOff)", "w + \(bOff)"]
    case .fc:
      let r = shapes.nodes[node.id]
      macs = r.inChannels * r.outChannels
      let (wOff, bOff) = fullyConnected(step, &body)
      params += ["_ w: UnsafePointer<Float>", "_ b: UnsafePointer<Float>"]
      extra = ["w + \(wOff)", "w + \(bOff)"]
    case .maxpool, .avgpool:
      pool(step, EmitPlan.geometry(node, shapes)!, &body)
    case .gap, .gmp:
      globalPool(step, &body)
    case .bn:
      let (sOff, tOff) = batchNorm(step, &body)
      params += ["_ scale: UnsafePointer<Float>", "_ shift: UnsafePointer<Float>"]
      extra = ["w + \(sOff)", "w + \(tOff)"]
    case .add:
      add(step, &body)
    case .concat:
      concat(step, &body)
    case .flatten:
      let shape = shapes[node.inputs[0]]
      let c = shape.last!, positions = shape.reduce(1, *) / c
      body.line("// Channels last to channel-major, as PyTorch flattens CxHxW.")
      body.block("for p in 0..<\(positions)") { w in
        w.block("for c in 0..<\(c)") { w in w.line("y[c * \(positions) + p] = x[p * \(c) + c]") }
      }
    case .softmax:
      softmax(step, &body)
    default:
      elementwise(step, &body)
    }
    kernels.line()
    kernels.line(
      "/// \(step.nodes.map { $0.op.mnemonic }.joined(separator: " + ")): \(shapes[step.inputs.first ?? 0]) -> \(shapes[node.id]).")
    kernels.line("@inline(never)")
    kernels.block("static func \(name)(\(params.joined(separator: ", ")))") { w in
      for l in body.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
        w.line(l.isEmpty ? "" : String(l))
      }
    }
    return extra
  }

  /// BN at inference as a per-channel affine map, computed as the interpreter does.
  func bnAffine(_ node: Node) -> (scale: [Float], shift: [Float]) {
    let p = parameters[node.id]!
    let eps = Float(node.attributes.epsilon)
    let gamma = p.gamma!.data, beta = p.beta!.data, mean = p.mean!.data, variance = p.variance!.data
    var scale = [Float](repeating: 0, count: gamma.count), shift = scale
    for c in 0..<gamma.count {
      scale[c] = gamma[c] / (variance[c] + eps).squareRoot()
      shift[c] = beta[c] - mean[c] * scale[c]
    }
    return (scale, shift)
  }

  /// The vector activation lines for `r` (none when the step has no activation).
  func vectorActivation(_ node: Node?, _ r: String = "r") -> [String] {
    guard let node else { return [] }
    switch node.op {
    case .relu: return ["\(r) = \(r).replacing(with: 0, where: \(r) .< 0)"]
    case .relu6: return ["\(r) = \(r).replacing(with: 0, where: \(r) .< 0).replacing(with: 6, where: \(r) .> 6)"]
    case .leakyrelu: return ["\(r) = \(r).replacing(with: \(r) * \(floatLiteral(Float(node.attributes.slope))), where: \(r) .< 0)"]
    default: return []
    }
  }

  /// The scalar form of an activation, as an expression of `v`.
  func scalarActivation(_ op: OpKind, _ node: Node, _ v: String) -> String {
    switch op {
    case .relu: return "(\(v) > 0 ? \(v) : 0)"
    case .relu6: return "min(max(\(v), 0), 6)"
    case .leakyrelu: return "(\(v) > 0 ? \(v) : \(v) * \(floatLiteral(Float(node.attributes.slope))))"
    case .sigmoid: return "Float(1 / (1 + Self.exp(-Double(\(v)))))"
    case .tanh: return "Float(Self.tanh(Double(\(v))))"
    case .gelu: return "Float(Double(\(v)) * (1 + Self.erf(Double(\(v)) * 0.7071067811865476)) / 2)"
    default: return v
    }
  }

  /// The strides, in elements, of a window op's input and output: per depth slice and per row.
  func strides(_ g: ConvGeometry, in cin: Int, out cout: Int) -> (inSlice: Int, inRow: Int, outSlice: Int, outRow: Int) {
    (g.input[1] * g.input[2] * cin, g.input[2] * cin, g.output[1] * g.output[2] * cout, g.output[2] * cout)
  }

  /// The element offset of a region's first tap for its output position (0, 0, 0) plus `from`
  /// positions along the axes whose value `fold` gives, in the input (`c` channels).
  func firstTap(_ region: WindowRegion, _ g: ConvGeometry, _ c: Int, fold: [Int]) -> Int {
    let s = strides(g, in: c, out: 0)
    let coordinate = (0..<3).map { fold[$0] * g.stride[$0] + region.firstTapOffset(g, $0) }
    return coordinate[0] * s.inSlice + coordinate[1] * s.inRow + coordinate[2] * c
  }

  /// A region whose windows lie wholly in the padding: every output is the bias (or 0)
  /// through the activation. Bias `b` holds `biasStride` entries per group.
  func paddingOnly(
    _ region: WindowRegion, _ g: ConvGeometry, groups: Int, biasStride: Int, hasBias: Bool, _ step: EmitPlan.Step,
    _ w: inout SourceWriter
  ) {
    let a = region.axes, cout = g.outChannels, go = cout / groups
    let s = strides(g, in: 0, out: cout)
    let at = LoopNest(ranges: [("od", a[0].from, a[0].to), ("oh", a[1].from, a[1].to), ("ow", a[2].from, a[2].to)])
    at.write(&w, scoped: true) { w in
      w.line("let yo = y + \(at.index([s.outSlice, s.outRow, cout]))")
      let channels = LoopNest(vars: [("g", groups), ("c", go)])
      channels.write(&w) { w in
        w.line("let v: Float = \(hasBias ? "b[\(channels.index([biasStride, 1]))]" : "0")")
        w.line("yo[\(channels.index([go, 1]))] = \(step.activation.map { scalarActivation($0.op, $0, "v") } ?? "v")")
      }
    }
  }

  /// Loops over a region's taps from its first (`kd`, `kh`, `kw`), with each variable's
  /// coefficient in the input (elements) and in the kernel's tap index.
  func tapLoops(_ region: WindowRegion, _ g: ConvGeometry) -> (nest: LoopNest, input: [Int], tapIndex: [Int]) {
    let a = region.axes, s = strides(g, in: g.inChannels, out: 0)
    return (
      LoopNest(vars: [("kd", a[0].taps), ("kh", a[1].taps), ("kw", a[2].taps)]),
      [g.dilation[0] * s.inSlice, g.dilation[1] * s.inRow, g.dilation[2] * g.inChannels],
      [g.kernel[1] * g.kernel[2], g.kernel[2], 1]
    )
  }

  /// Conv (every group count, 1-D to 3-D), with a folded BN and a fused activation.
  /// Depthwise convs vectorise channels; the rest run a register-blocked direct kernel.
  /// Each border/interior region (`WindowRegion`) gets its own loops, reading the input in
  /// place: the taps a region's windows lose to the padding are not emitted.
  mutating func convolution(_ step: EmitPlan.Step, _ geometry: ConvGeometry, _ w: inout SourceWriter) -> (Int, Int) {
    var g = geometry
    let node = step.node
    let p = parameters[node.id]!
    let weight = p.weight!.data
    let cin = g.inChannels, cout = g.outChannels, gi = g.groupIn, go = g.groupOut, taps = g.taps
    var scale = [Float](repeating: 1, count: cout), shift = [Float](repeating: 0, count: cout)
    if let bn = step.foldedBN { (scale, shift) = bnAffine(bn) }
    let bias = (0..<cout).map { co in (p.bias?.data[co] ?? 0) * scale[co] + shift[co] }
    let hasBias = p.bias != nil || step.foldedBN != nil

    // A 1x1 stride-1 conv without padding reads every position once: one long row.
    if g.isPointwise {
      let n = g.inPositions
      g.input = [1, 1, n]
      g.output = [1, 1, n]
    }
    let regions = WindowRegion.regions(g)
    let s = strides(g, in: cin, out: cout)
    let sw = g.stride[2] * cin

    if gi == 1 && go == 1 {
      // Depthwise: weights [tap][C], bias [C].
      var packed = [Float](repeating: 0, count: taps * cout)
      for c in 0..<cout { for t in 0..<taps { packed[t * cout + c] = weight[c * taps + t] * scale[c] } }
      let wOff = store(packed), bOff = store(bias)
      for region in regions {
        w.line("// \(region.describe(g))")
        let tapList = region.tapList(g, channels: cin)
        if tapList.isEmpty {
          paddingOnly(region, g, groups: 1, biasStride: cout, hasBias: hasBias, step, &w)
          continue
        }
        let a = region.axes
        let rows = LoopNest(ranges: [("od", a[0].from, a[0].to), ("oh", a[1].from, a[1].to)])
        let ow = a[2].count
        // The interior unrolls its taps; a border region loops over its (fewer) taps, which
        // keeps the source, and the compile time, from growing with the number of regions.
        let unroll = region.isInterior(g)
        let (tapLoops, tapInput, tapIndex) = self.tapLoops(region, g)
        let tapWeight = tapIndex.map { $0 * cout }
        rows.write(&w, scoped: true) { w in
          w.line(
            "let xr = x + \(rows.index([g.stride[0] * s.inSlice, g.stride[1] * s.inRow], firstTap(region, g, cin, fold: [0, 0, a[2].from])))"
          )
          w.line("let yr = y + \(rows.index([s.outSlice, s.outRow], a[2].from * cout))")
          vectorLoops(cout, "c", &w) { k, w in
            let keep = unroll && tapList.count <= 16
            if keep {
              for (j, t) in tapList.enumerated() { w.line("let k\(j) = Self.load\(k)(w + \(indexExpr([("c", 1)], t.index * cout)))") }
            }
            w.line("let bv = \(hasBias ? "Self.load\(k)(b + c)" : "SIMD\(k)<Float>()")")
            let pb = 4
            func tile(_ n: Int, _ ox: String, _ w: inout SourceWriter) {
              w.block("do") { w in
                w.line("let xo = xr + \(ox == "0" ? "c" : "\(ox) * \(sw) + c")")
                for q in 0..<n { w.line("var a\(q) = bv") }
                if unroll {
                  for (j, t) in tapList.enumerated() {
                    let kt = keep ? "k\(j)" : "Self.load\(k)(w + \(indexExpr([("c", 1)], t.index * cout)))"
                    for q in 0..<n { w.line("a\(q) = a\(q).addingProduct(Self.load\(k)(xo + \(t.offset + q * sw)), \(kt))") }
                  }
                } else {
                  tapLoops.write(&w) { w in
                    w.line("let xt = xo + \(tapLoops.index(tapInput))")
                    w.line("let kt = Self.load\(k)(w + c + \(tapLoops.index(tapWeight, tapList[0].index * cout)))")
                    for q in 0..<n { w.line("a\(q) = a\(q).addingProduct(Self.load\(k)(xt + \(q * sw)), kt)") }
                  }
                }
                for q in 0..<n {
                  let act = vectorActivation(step.activation, "r\(q)")
                  w.line("\(act.isEmpty ? "let" : "var") r\(q) = a\(q)")
                  for l in act { w.line(l) }
                  w.line("Self.store\(k)(yr + \(ox == "0" ? "" : "\(ox) * \(cout) + ")\(q * cout) + c, r\(q))")
                }
              }
            }
            overlappingTiles(ow, pb, &w, tile)
          } scalar: { w in
            w.block("for ox in 0..<\(ow)") { w in
              w.line("let xo = xr + ox * \(sw) + c")
              w.line("var v: Float = \(hasBias ? "b[c]" : "0")")
              if unroll {
                for t in tapList { w.line("v += xo[\(t.offset)] * w[\(indexExpr([("c", 1)], t.index * cout))]") }
              } else {
                tapLoops.write(&w) { w in
                  w.line("v += xo[\(tapLoops.index(tapInput))] * w[c + \(tapLoops.index(tapWeight, tapList[0].index * cout))]")
                }
              }
              w.line("yr[ox * \(cout) + c] = \(step.activation.map { scalarActivation($0.op, $0, "v") } ?? "v")")
            }
          }
        }
      }
      return (wOff, bOff)
    }

    // Register-blocked direct conv: per group, blocks of two vectors of output channels
    // (16 at width 8, 32 at width 16) by a tile of pixels, or one vector by a longer tile
    // (`ConvTile`); weights [g][block][tap][ci][lane], or, when a block's weights are split
    // into chunks of input channels, [block][chunk][tap][ci][lane].
    var blocking = ConvTile(lanes: lanes)
    if let t = chunkThreshold { blocking.chunkThreshold = t }
    let L = lanes, B = blocking.vectors * lanes
    let gop = (go + L - 1) / L * L
    let chunk = g.groups == 1 && go % B == 0 ? blocking.inputChunk(taps: taps, inputs: gi) : nil
    let ck = chunk ?? gi, chunks = gi / ck
    var packed = [Float](repeating: 0, count: g.groups * gop * taps * gi)
    var packedBias = [Float](repeating: 0, count: g.groups * gop)
    for grp in 0..<g.groups {
      for co in 0..<go {
        let cb = co / B, lane = co % B, bw = min(B, gop - cb * B)
        let base = (grp * gop + cb * B) * taps * gi
        for ci in 0..<gi {
          let (kc, cl) = (ci / ck, ci % ck)
          for t in 0..<taps {
            packed[base + ((kc * taps + t) * ck + cl) * bw + lane] = weight[((grp * go + co) * gi + ci) * taps + t] * scale[grp * go + co]
          }
        }
        packedBias[grp * gop + co] = bias[grp * go + co]
      }
    }
    let wOff = store(packed), bOff = store(packedBias)
    let rowStride = g.stride[1] * s.inRow
    let positions = g.outPositions

    if chunk != nil {
      // Chunks of input channels: a block's weights for one chunk stay in L1 while every
      // tile of every region meets them, the sums carried in the output between chunks. The
      // output starts as the bias; the activation runs over it once the last chunk is in.
      w.line("// The output starts as the bias; \(chunks) chunks of \(ck) input channels add to it.")
      if hasBias {
        w.block("for q in 0..<\(positions)") { w in w.line("(y + q * \(cout)).update(from: b, count: \(cout))") }
      } else {
        w.line("y.update(repeating: 0, count: \(positions * cout))")
      }
    } else {
      for region in regions where region.taps == 0 {
        w.line("// \(region.describe(g))")
        paddingOnly(region, g, groups: g.groups, biasStride: gop, hasBias: hasBias, step, &w)
      }
    }
    let fullBlocks = go / B
    // Blocks whose lanes are all real channels run in a loop over `cb`; the last block (one
    // or two vectors, some lanes padding) is written out on its own.
    var kinds: [(cb: String, start: Int, bw: Int, valid: Int)] = []
    if fullBlocks > 0 { kinds.append(("cb", 0, B, B)) }
    if go % B > 0 { kinds.append(("\(fullBlocks)", fullBlocks * B, gop - fullBlocks * B, go % B)) }
    for kind in kinds {
      let bw = kind.bw, nv = bw / L
      let cbTerms: [(String, Int)] = kind.cb == "cb" ? [("cb", 1)] : []
      // Weights of a tap within the block (and chunk), and of the block's chunk.
      let tapStride = ck * bw
      func regionsOfBlock(_ w: inout SourceWriter) {
        for region in regions where region.taps > 0 {
          w.line("// \(region.describe(g))")
          directRegion(region, kind: kind, nv: nv, cbTerms: cbTerms, tapStride: tapStride, &w)
        }
      }
      func chunkLoop(_ w: inout SourceWriter) {
        if chunks > 1 {
          w.block("for kc in 0..<\(chunks)") { w in regionsOfBlock(&w) }
        } else {
          regionsOfBlock(&w)
        }
      }
      if kind.cb == "cb" && fullBlocks > 1 {
        w.block("for cb in 0..<\(fullBlocks)") { w in chunkLoop(&w) }
      } else if kind.cb == "cb" {
        w.block("do") { w in
          w.line("let cb = 0")
          chunkLoop(&w)
        }
      } else {
        chunkLoop(&w)
      }
    }
    if chunk != nil, let activation = step.activation { activationLoop(activation, count: positions * cout, from: "y", &w) }

    /// One region's tiles for one block of output channels (the block `cb`, or the tail
    /// block, for every group), all its input channels or the chunk `kc` of them.
    func directRegion(
      _ region: WindowRegion, kind: (cb: String, start: Int, bw: Int, valid: Int), nv: Int, cbTerms: [(String, Int)],
      tapStride: Int, _ w: inout SourceWriter
    ) {
      let bw = kind.bw
      let tapList = region.tapList(g, channels: cin)
      let a = region.axes
      let rowWidth = a[2].count
      // Rows are tiled one by one unless the rows of a depth slice, tiled as one flat run of
      // pixels, need fewer tiles by more than a tenth: then each pixel of a tile gets its
      // own input pointer (row-aware addressing), and a 5x5 interior is 4 tiles, not 5 x 1.
      // Row tiles need no pointer per pixel, which counts when the input channels are few
      // (the 30-wide interior of a 32x32x3 conv: 2 tiles of 15 per row).
      let rowTile = min(blocking.pixels(run: rowWidth, vectors: nv), rowWidth)
      let rowTiles = a[1].count * ((rowWidth + rowTile - 1) / rowTile)
      let flatTile = blocking.pixels(run: a[1].count * rowWidth, vectors: nv)
      let flatTiles = (a[1].count * rowWidth + flatTile - 1) / flatTile
      let flat = a[1].count > 1 && rowTiles * 10 > flatTiles * 11
      // Flat tiles store to consecutive pixels only when the region's rows are whole rows.
      let contiguous = !flat || rowWidth == g.output[2]
      let pixelCount = flat ? a[1].count * rowWidth : rowWidth
      let pb = flat ? flatTile : rowTile
      let slices =
        flat
        ? LoopNest(ranges: [("od", a[0].from, a[0].to)]) : LoopNest(ranges: [("od", a[0].from, a[0].to), ("oh", a[1].from, a[1].to)])
      // Only the interior unrolls its taps (and only up to 9 of them): a border region loops.
      let unroll = region.isInterior(g) && tapList.count <= 9
      let ciCount = chunk ?? gi
      let chunkTerm: [(String, Int)] = chunks > 1 ? [("kc", ck)] : []
      slices.write(&w, scoped: true) { w in
        if flat {
          w.line("let xr = x + \(slices.index([g.stride[0] * s.inSlice], firstTap(region, g, cin, fold: [0, a[1].from, a[2].from])))")
          w.line("let yr = y + \(slices.index([s.outSlice], a[1].from * s.outRow + a[2].from * cout))")
        } else {
          let at = firstTap(region, g, cin, fold: [0, 0, a[2].from])
          w.line("let xr = x + \(slices.index([g.stride[0] * s.inSlice, rowStride], at))")
          w.line("let yr = y + \(slices.index([s.outSlice, s.outRow], a[2].from * cout))")
        }
        let groups = LoopNest(vars: [("g", g.groups)])
        groups.write(&w) { w in
          /// Terms of pixel `q` of the tile at `ox`: its row and column in the region.
          func pixelTerms(_ ox: String, _ q: Int, row: Int, column: Int) -> ([(String, Int)], Int) {
            if let start = Int(ox) {
              let px = start + q
              return ([], px / rowWidth * row + px % rowWidth * column)
            }
            let px = "(\(ox) + \(q))"
            if rowWidth == 1 { return ([(px, row)], 0) }
            return ([("\(px) / \(rowWidth)", row), ("\(px) % \(rowWidth)", column)], 0)
          }
          func tile(_ n: Int, _ ox: String, _ w: inout SourceWriter) {
            w.block("do") { w in
              if !flat { w.line("let xo = xr + \(indexExpr(groups.terms([gi]) + (ox == "0" ? [] : [(ox, sw)])))") }
              let weightTerms =
                groups.terms([gop * taps * gi]) + cbTerms.map { ($0.0, B * taps * gi) } + chunkTerm.map { ($0.0, taps * tapStride) }
              w.line("let wb = w + \(indexExpr(weightTerms, kind.start * taps * gi))")
              let pixelTerm: [(String, Int)] = contiguous && ox != "0" ? [(ox, cout)] : []
              w.line("let yo = yr + \(indexExpr(groups.terms([go]) + pixelTerm + cbTerms.map { ($0.0, B) }, kind.start))")
              if flat {
                // Each pixel of the tile gets its own input pointer (the tile may span rows),
                // and its own output pointer when the region's rows are not whole rows.
                for q in 0..<n {
                  let (terms, constant) = pixelTerms(ox, q, row: rowStride, column: sw)
                  w.line("let p\(q) = xr + \(indexExpr(groups.terms([gi]) + terms + chunkTerm, constant))")
                }
                if !contiguous {
                  for q in 0..<n {
                    let (terms, constant) = pixelTerms(ox, q, row: s.outRow, column: cout)
                    w.line("let o\(q) = yo + \(indexExpr(terms, constant))")
                  }
                }
              } else if chunks > 1 {
                w.line("let xc = xo + kc * \(ck)")
              }
              let xBase = flat ? "" : chunks > 1 ? "xc" : "xo"
              // Pixel q's output, vector v.
              func output(_ q: Int, _ v: Int) -> String { contiguous ? "yo + \(q * cout + v * L)" : "o\(q)\(v == 0 ? "" : " + \(v * L)")" }
              for q in 0..<n {
                for v in 0..<nv { w.line("var a\(q)_\(v) = \(chunk != nil ? "Self.load\(L)(\(output(q, v)))" : "SIMD\(L)<Float>()")") }
              }
              // `x(q)` is the element read for pixel q at input channel `ci` of the current tap.
              func tapBody(_ x: (Int) -> String, _ wt: String, _ w: inout SourceWriter) {
                w.block("for ci in 0..<\(ciCount)") { w in
                  for v in 0..<nv { w.line("let w\(v) = Self.load\(L)(\(wt) + ci * \(bw)\(v == 0 ? "" : " + \(v * L)"))") }
                  for q in 0..<n {
                    w.line("let x\(q) = SIMD\(L)<Float>(repeating: \(x(q)))")
                    for v in 0..<nv { w.line("a\(q)_\(v) = a\(q)_\(v).addingProduct(x\(q), w\(v))") }
                  }
                }
              }
              if unroll {
                for (j, t) in tapList.enumerated() {
                  let x: (Int) -> String =
                    flat
                    ? { q in "p\(q)[\(indexExpr([("ci", 1)], t.offset))]" }
                    : { q in "(\(xBase) + \(t.offset))[ci\(q == 0 ? "" : " + \(q * sw)")]" }
                  tapBody(x, "(wb + \(tapList[j].index * tapStride))", &w)
                }
              } else {
                let (k, tapInput, tapIndex) = tapLoops(region, g)
                k.write(&w) { w in
                  let tapTerm = k.index(tapInput)
                  if flat {
                    w.line("let to = \(tapTerm)")
                  } else {
                    w.line("let xt = \(xBase) + \(tapTerm)")
                  }
                  let wt = k.index(tapIndex.map { $0 * tapStride }, tapList[0].index * tapStride)
                  w.line("let wt = wb + \(wt)")
                  let x: (Int) -> String = flat ? { q in "p\(q)[to + ci]" } : { q in "xt[ci\(q == 0 ? "" : " + \(q * sw)")]" }
                  tapBody(x, "wt", &w)
                }
              }
              // Chunks store the sums as they are; otherwise bias and activation come here.
              let epilogue = chunk == nil
              for v in 0..<nv where epilogue && hasBias {
                w.line("let b\(v) = Self.load\(L)(b + \(indexExpr(groups.terms([gop]) + cbTerms.map { ($0.0, B) }, kind.start + v * L)))")
              }
              let act = epilogue ? vectorActivation(step.activation) : []
              for q in 0..<n {
                for v in 0..<nv {
                  let valid = min(L, kind.valid - v * L)
                  if valid <= 0 { continue }
                  w.line("\(act.isEmpty ? "let" : "var") r\(q)_\(v) = a\(q)_\(v)\(epilogue && hasBias ? " + b\(v)" : "")")
                  if epilogue { for l in vectorActivation(step.activation, "r\(q)_\(v)") { w.line(l) } }
                  if valid == L {
                    w.line("Self.store\(L)(\(output(q, v)), r\(q)_\(v))")
                  } else {
                    w.line("for l in 0..<\(valid) { (\(output(q, v)))[l] = r\(q)_\(v)[l] }")
                  }
                }
              }
            }
          }
          // Chunks add to the output, so their tiles may not overlap.
          overlappingTiles(pixelCount, pb, overlap: chunk == nil, &w, tile)
        }
      }
    }
    return (wOff, bOff)
  }

  /// FC as a blocked GEMV: 4 vectors of outputs (32 at width 8, 64 at width 16) per pass
  /// over the input; weights [block][in][lane].
  mutating func fullyConnected(_ step: EmitPlan.Step, _ w: inout SourceWriter) -> (Int, Int) {
    let r = shapes.nodes[step.node.id]
    let n = r.inChannels, m = r.outChannels
    let p = parameters[step.node.id]!
    let weight = p.weight!.data
    let L = lanes, B = 4 * lanes
    let mp = (m + L - 1) / L * L
    var packed = [Float](repeating: 0, count: mp * n)
    for o in 0..<m {
      let blk = o / B, lane = o % B, bw = min(B, mp - blk * B)
      for i in 0..<n { packed[blk * B * n + i * bw + lane] = weight[o * n + i] }
    }
    var bias = [Float](repeating: 0, count: mp)
    if let b = p.bias?.data { for o in 0..<m { bias[o] = b[o] } }
    let wOff = store(packed), bOff = store(bias)
    let act = vectorActivation(step.activation)
    func block(_ blk: String, _ bw: Int, _ valid: Int, _ w: inout SourceWriter) {
      let nv = bw / L
      w.block("do") { w in
        w.line("let wb = w + \(blk == "0" ? "0" : "\(blk) * \(B * n)")")
        w.line("let base = \(blk == "0" ? "0" : "\(blk) * \(B)")")
        for v in 0..<nv { w.line("var a\(v) = Self.load\(L)(b + base + \(v * L))") }
        w.block("for i in 0..<\(n)") { w in
          w.line("let xv = SIMD\(L)<Float>(repeating: x[i])")
          for v in 0..<nv { w.line("a\(v) = a\(v).addingProduct(xv, Self.load\(L)(wb + i * \(bw) + \(v * L)))") }
        }
        for v in 0..<nv {
          let live = min(L, valid - v * L)
          if live <= 0 { continue }
          w.line("\(act.isEmpty ? "let" : "var") r\(v) = a\(v)")
          for l in vectorActivation(step.activation, "r\(v)") { w.line(l) }
          if live == L {
            w.line("Self.store\(L)(y + base + \(v * L), r\(v))")
          } else {
            w.line("for l in 0..<\(live) { y[base + \(v * L) + l] = r\(v)[l] }")
          }
        }
      }
    }
    if m / B > 0 {
      w.block("for k in 0..<\(m / B)") { w in block("k", B, B, &w) }
    }
    if m % B > 0 { block("\(m / B)", mp - m / B * B, m % B, &w) }
    return (wOff, bOff)
  }

  /// Max and average pools: per border/interior region, the taps inside the input unrolled,
  /// channels in vectors. Average pools divide by the taps inside the padded input, as
  /// PyTorch's default (`count_include_pad`); a max over no tap is -inf.
  func pool(_ step: EmitPlan.Step, _ g: ConvGeometry, _ w: inout SourceWriter) {
    let isMax = step.node.op == .maxpool
    let c = g.inChannels
    let s = strides(g, in: c, out: c)
    for region in WindowRegion.regions(g) {
      w.line("// \(region.describe(g))")
      let a = region.axes
      let out = LoopNest(ranges: [("od", a[0].from, a[0].to), ("oh", a[1].from, a[1].to), ("ow", a[2].from, a[2].to)])
      let taps = region.tapList(g, channels: c).map(\.offset)
      // Divisor per axis: the window's taps inside [-padBegin, in + padEnd), a constant
      // unless it changes along the region's positions.
      var divisor: [String] = []
      var constant = 1
      for x in 0..<3 {
        let counts = (a[x].from..<a[x].to).map { o -> Int in
          let start = o * g.stride[x] - g.padBegin[x]
          return min(start + g.kernel[x], g.input[x] + g.padEnd[x]) - max(start, -g.padBegin[x])
        }
        if Set(counts).count == 1 {
          constant *= counts[0]
        } else {
          let v = out.vars[x].name
          divisor.append(
            "(min(\(v) * \(g.stride[x]) + \(g.kernel[x] - g.padBegin[x]), \(g.input[x] + g.padEnd[x])) - max(\(v) * \(g.stride[x]) - \(g.padBegin[x]), \(-g.padBegin[x])))"
          )
        }
      }
      out.write(&w, scoped: true) { w in
        let yo = "y + \(out.index([s.outSlice, s.outRow, c]))"
        guard let first = taps.first else {
          w.line("(\(yo)).update(repeating: \(isMax ? "-Float.infinity" : "0"), count: \(c))")
          return
        }
        w.line(
          "let xo = x + \(out.index([g.stride[0] * s.inSlice, g.stride[1] * s.inRow, g.stride[2] * c], firstTap(region, g, c, fold: [0, 0, 0])))"
        )
        w.line("let yo = \(yo)")
        if !isMax {
          let count =
            divisor.isEmpty ? "\(constant)" : ([constant == 1 ? nil : "\(constant)"].compactMap { $0 } + divisor).joined(separator: " * ")
          w.line("let n = Float(\(count))")
        }
        let mut = taps.count > 1 ? "var" : "let"
        vectorLoops(c, "c", &w) { k, w in
          w.line("\(mut) m = Self.load\(k)(xo + \(indexExpr([("c", 1)], first)))")
          for t in taps.dropFirst() {
            w.line(
              isMax ? "let v\(t) = Self.load\(k)(xo + \(indexExpr([("c", 1)], t)))" : "m += Self.load\(k)(xo + \(indexExpr([("c", 1)], t)))"
            )
            if isMax { w.line("m = m.replacing(with: v\(t), where: v\(t) .> m)") }
          }
          w.line(isMax ? "Self.store\(k)(yo + c, m)" : "Self.store\(k)(yo + c, m / SIMD\(k)<Float>(repeating: n))")
        } scalar: { w in
          w.line("\(mut) m = xo[\(indexExpr([("c", 1)], first))]")
          for t in taps.dropFirst() {
            w.line(isMax ? "m = max(m, xo[\(indexExpr([("c", 1)], t))])" : "m += xo[\(indexExpr([("c", 1)], t))]")
          }
          w.line(isMax ? "yo[c] = m" : "yo[c] = m / n")
        }
      }
    }
  }

  /// GAP and GMP: channels in vectors over every position.
  func globalPool(_ step: EmitPlan.Step, _ w: inout SourceWriter) {
    let isMax = step.node.op == .gmp
    let c = shapes[step.node.id].last!
    let positions = shapes[step.node.inputs[0]].reduce(1, *) / c
    vectorLoops(c, "c", &w) { k, w in
      w.line("var m = SIMD\(k)<Float>(repeating: \(isMax ? "-Float.infinity" : "0"))")
      w.block("for q in 0..<\(positions)") { w in
        w.line("let v = Self.load\(k)(x + q * \(c) + c)")
        w.line(isMax ? "m = m.replacing(with: v, where: v .> m)" : "m += v")
      }
      w.line(isMax ? "Self.store\(k)(y + c, m)" : "Self.store\(k)(y + c, m / SIMD\(k)<Float>(repeating: \(positions)))")
    } scalar: { w in
      w.line("var m: Float = \(isMax ? "-Float.infinity" : "0")")
      w.block("for q in 0..<\(positions)") { w in
        w.line(isMax ? "m = max(m, x[q * \(c) + c])" : "m += x[q * \(c) + c]")
      }
      w.line(isMax ? "y[c] = m" : "y[c] = m / \(positions)")
    }
  }

  /// BN not folded into a conv: y = x * scale + shift per channel.
  mutating func batchNorm(_ step: EmitPlan.Step, _ w: inout SourceWriter) -> (Int, Int) {
    let (scale, shift) = bnAffine(step.node)
    let sOff = store(scale), tOff = store(shift)
    let c = scale.count, positions = shapes[step.node.id].reduce(1, *) / c
    w.block("for q in 0..<\(positions)") { w in
      w.line("let xo = x + q * \(c), yo = y + q * \(c)")
      vectorLoops(c, "c", &w) { k, w in
        w.line("Self.store\(k)(yo + c, Self.load\(k)(xo + c) * Self.load\(k)(scale + c) + Self.load\(k)(shift + c))")
      } scalar: { w in
        w.line("yo[c] = xo[c] * scale[c] + shift[c]")
      }
    }
    return (sOff, tOff)
  }

  /// Element-wise sum of the inputs, in input order.
  func add(_ step: EmitPlan.Step, _ w: inout SourceWriter) {
    let n = shapes[step.node.id].reduce(1, *)
    let k = step.inputs.count
    vectorLoops(n, "i", &w) { v, w in
      w.line("Self.store\(v)(y + i, \((0..<k).map { "Self.load\(v)(x\($0) + i)" }.joined(separator: " + ")))")
    } scalar: { w in
      w.line("y[i] = \((0..<k).map { "x\($0)[i]" }.joined(separator: " + "))")
    }
  }

  /// Concatenation along channels: per position, each input's channels in turn.
  func concat(_ step: EmitPlan.Step, _ w: inout SourceWriter) {
    let total = shapes[step.node.id].last!
    let positions = shapes[step.node.id].reduce(1, *) / total
    w.block("for q in 0..<\(positions)") { w in
      var offset = 0
      for (k, v) in step.inputs.enumerated() {
        let ck = shapes[v].last!
        w.line("(y + \(indexExpr([("q", total)], offset))).update(from: x\(k) + q * \(ck), count: \(ck))")
        offset += ck
      }
    }
  }

  /// Softmax over the last axis, shifted by the maximum.
  mutating func softmax(_ step: EmitPlan.Step, _ w: inout SourceWriter) {
    uses.insert("exp")
    let c = shapes[step.node.id].last!
    let groups = shapes[step.node.id].reduce(1, *) / c
    w.block("for q in 0..<\(groups)") { w in
      w.line("let xo = x + q * \(c), yo = y + q * \(c)")
      w.line("var m = -Float.infinity")
      w.line("for j in 0..<\(c) { m = max(m, xo[j]) }")
      w.line("var sum: Float = 0")
      w.block("for j in 0..<\(c)") { w in
        w.line("let e = Float(Self.exp(Double(xo[j] - m)))")
        w.line("yo[j] = e")
        w.line("sum += e")
      }
      w.line("for j in 0..<\(c) { yo[j] /= sum }")
    }
  }

  /// `y[i] = activation(source[i])` for `count` elements, in vectors (ReLU, ReLU6,
  /// LeakyReLU); the source is `x`, or `y` itself for an activation applied in place.
  func activationLoop(_ node: Node, count: Int, from source: String, _ w: inout SourceWriter) {
    vectorLoops(count, "i", &w) { k, w in
      w.line("var r = Self.load\(k)(\(source) + i)")
      for l in vectorActivation(node) { w.line(l) }
      w.line("Self.store\(k)(y + i, r)")
    } scalar: { w in
      w.line("y[i] = \(scalarActivation(node.op, node, "\(source)[i]"))")
    }
  }

  /// ReLU, ReLU6 and LeakyReLU in vectors; sigmoid, tanh and GELU through the Double helpers.
  mutating func elementwise(_ step: EmitPlan.Step, _ w: inout SourceWriter) {
    let node = step.node
    let n = shapes[node.id].reduce(1, *)
    switch node.op {
    case .relu, .relu6, .leakyrelu:
      activationLoop(node, count: n, from: "x", &w)
    case .sigmoid, .tanh, .gelu:
      uses.insert(node.op == .gelu ? "erf" : node.op == .tanh ? "tanh" : "exp")
      w.block("for i in 0..<\(n)") { w in w.line("y[i] = \(scalarActivation(node.op, node, "x[i]"))") }
    default:
      w.line("y.update(from: x, count: \(n))")
    }
  }
}
