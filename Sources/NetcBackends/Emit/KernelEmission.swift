import NetcIR
import NetcPasses

/// An index expression `v1 * c1 + v2 * c2 + k` with the zero terms left out.
func indexExpr(_ terms: [(String, Int)], _ constant: Int = 0) -> String {
  var parts = terms.filter { $0.1 != 0 }.map { $0.1 == 1 ? $0.0 : "\($0.0) * \($0.1)" }
  if constant != 0 || parts.isEmpty { parts.append("\(constant)") }
  return parts.joined(separator: " + ")
}

/// Loop variables over extents; an extent of 1 opens no loop and its variable is left out
/// of index expressions (a literal 0 would only be noise).
struct LoopNest {
  var vars: [(name: String, extent: Int)]

  /// `(name, coefficient)` terms for the variables that loop.
  func terms(_ coefficients: [Int]) -> [(String, Int)] {
    zip(vars, coefficients).filter { $0.0.extent > 1 }.map { ($0.0.name, $0.1) }
  }

  /// Opens the loops, writes `body` inside, closes them.
  func write(_ w: inout SourceWriter, _ body: (inout SourceWriter) -> Void) {
    let open = vars.filter { $0.extent > 1 }
    func level(_ i: Int, _ w: inout SourceWriter) {
      if i == open.count {
        body(&w)
        return
      }
      w.block("for \(open[i].name) in 0..<\(open[i].extent)") { w in level(i + 1, &w) }
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
    if step.scratch != nil { params.append("_ s: UnsafeMutablePointer<Float>") }
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

  /// Writes the padded copy of the input into `s` (fill outside the input) and binds `xp`.
  func paddedInput(_ g: ConvGeometry, fill: String, _ w: inout SourceWriter) -> [Int] {
    let c = g.inChannels
    guard EmitPlan.needsPaddedCopy(g) else {
      w.line("let xp = x")
      return g.input
    }
    let p = EmitPlan.paddedInput(g)
    w.line("// A padded copy of the input: the loops below then need no bounds tests.")
    w.line("s.update(repeating: \(fill), count: \(p[0] * p[1] * p[2] * c))")
    let nest = LoopNest(vars: [("d", g.input[0]), ("h", g.input[1])])
    nest.write(&w) { w in
      let dst = indexExpr(
        nest.terms([p[1] * p[2] * c, p[2] * c]), (g.padBegin[0] * p[1] * p[2] + g.padBegin[1] * p[2] + g.padBegin[2]) * c)
      let src = indexExpr(nest.terms([g.input[1] * g.input[2] * c, g.input[2] * c]))
      w.line("(s + \(dst)).update(from: x + \(src), count: \(g.input[2] * c))")
    }
    w.line("let xp = UnsafePointer(s)")
    return p
  }

  /// Tap offsets (in elements of the padded input) in (kd, kh, kw) order.
  func tapOffsets(_ g: ConvGeometry, padded p: [Int]) -> [Int] {
    var out: [Int] = []
    let c = g.inChannels
    for kd in 0..<g.kernel[0] {
      for kh in 0..<g.kernel[1] {
        for kw in 0..<g.kernel[2] {
          out.append(((kd * g.dilation[0] * p[1] + kh * g.dilation[1]) * p[2] + kw * g.dilation[2]) * c)
        }
      }
    }
    return out
  }

  /// Conv (every group count, 1-D to 3-D), with a folded BN and a fused activation.
  /// Depthwise convs vectorise channels; the rest run a register-blocked direct kernel.
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
    if g.kernel == [1, 1, 1] && g.stride == [1, 1, 1] && !EmitPlan.needsPaddedCopy(g) {
      let n = g.inPositions
      g.input = [1, 1, n]
      g.output = [1, 1, n]
    }
    let pd = paddedInput(g, fill: "0", &w)
    let tapOff = tapOffsets(g, padded: pd)
    let rows = LoopNest(vars: [("od", g.output[0]), ("oh", g.output[1])])
    let ow = g.output[2], sw = g.stride[2] * cin

    if gi == 1 && go == 1 {
      // Depthwise: weights [tap][C], bias [C].
      var packed = [Float](repeating: 0, count: taps * cout)
      for c in 0..<cout { for t in 0..<taps { packed[t * cout + c] = weight[c * taps + t] * scale[c] } }
      let wOff = store(packed), bOff = store(bias)
      rows.write(&w) { w in
        w.line("let xr = xp + \(indexExpr(rows.terms([g.stride[0] * pd[1] * pd[2] * cin, g.stride[1] * pd[2] * cin])))")
        w.line("let yr = y + \(indexExpr(rows.terms([g.output[1] * ow * cout, ow * cout])))")
        vectorLoops(cout, "c", &w) { k, w in
          let keep = taps <= 16
          if keep { for t in 0..<taps { w.line("let k\(t) = Self.load\(k)(w + \(indexExpr([("c", 1)], t * cout)))") } }
          w.line("let bv = \(hasBias ? "Self.load\(k)(b + c)" : "SIMD\(k)<Float>()")")
          let pb = 4
          func tile(_ n: Int, _ ox: String, _ w: inout SourceWriter) {
            w.block("do") { w in
              w.line("let xo = xr + \(ox == "0" ? "c" : "\(ox) * \(sw) + c")")
              for q in 0..<n { w.line("var a\(q) = bv") }
              for t in 0..<taps {
                let kt = keep ? "k\(t)" : "Self.load\(k)(w + \(indexExpr([("c", 1)], t * cout)))"
                for q in 0..<n { w.line("a\(q) = a\(q).addingProduct(Self.load\(k)(xo + \(tapOff[t] + q * sw)), \(kt))") }
              }
              for q in 0..<n {
                let act = vectorActivation(step.activation, "r\(q)")
                w.line("\(act.isEmpty ? "let" : "var") r\(q) = a\(q)")
                for l in act { w.line(l) }
                w.line("Self.store\(k)(yr + \(ox == "0" ? "" : "\(ox) * \(cout) + ")\(q * cout) + c, r\(q))")
              }
            }
          }
          if ow / pb > 0 {
            w.block("for t in 0..<\(ow / pb)") { w in tile(pb, "t * \(pb)", &w) }
          }
          if ow % pb > 0 { tile(ow % pb, "\(ow / pb * pb)", &w) }
        } scalar: { w in
          w.block("for ox in 0..<\(ow)") { w in
            w.line("let xo = xr + ox * \(sw) + c")
            w.line("var v: Float = \(hasBias ? "b[c]" : "0")")
            for t in 0..<taps { w.line("v += xo[\(tapOff[t])] * w[\(indexExpr([("c", 1)], t * cout))]") }
            w.line("yr[ox * \(cout) + c] = \(step.activation.map { scalarActivation($0.op, $0, "v") } ?? "v")")
          }
        }
      }
      return (wOff, bOff)
    }

    // Register-blocked direct conv: per group, blocks of two vectors of output channels
    // (16 at width 8, 32 at width 16) by a tile of pixels, or one vector by a longer tile
    // (`ConvTile`); weights [g][block][tap][ci][lane].
    let blocking = ConvTile(lanes: lanes)
    let L = lanes, B = blocking.vectors * lanes
    let gop = (go + L - 1) / L * L
    var packed = [Float](repeating: 0, count: g.groups * gop * taps * gi)
    var packedBias = [Float](repeating: 0, count: g.groups * gop)
    for grp in 0..<g.groups {
      for co in 0..<go {
        let cb = co / B, lane = co % B, bw = min(B, gop - cb * B)
        let base = (grp * gop + cb * B) * taps * gi
        for ci in 0..<gi {
          for t in 0..<taps {
            packed[base + (t * gi + ci) * bw + lane] = weight[((grp * go + co) * gi + ci) * taps + t] * scale[grp * go + co]
          }
        }
        packedBias[grp * gop + co] = bias[grp * go + co]
      }
    }
    let wOff = store(packed), bOff = store(packedBias)
    let unroll = taps <= 9
    // When a row's width is not a multiple of the pixel tile, the output rows of one depth
    // slice are tiled as one flat run of oh * ow pixels, each pixel with its own input pointer
    // (row-aware addressing): a 7x7 map is 8 full 6-pixel tiles + 1 pixel instead of 7 x (6 + 1).
    let flat = g.output[1] > 1 && ow % blocking.pixels != 0
    let rowStride = g.stride[1] * pd[2] * cin
    let pixelCount = flat ? g.output[1] * ow : ow
    let slices = flat ? LoopNest(vars: [("od", g.output[0])]) : rows
    slices.write(&w) { w in
      if flat {
        w.line("let xr = xp + \(indexExpr(slices.terms([g.stride[0] * pd[1] * pd[2] * cin])))")
        w.line("let yr = y + \(indexExpr(slices.terms([g.output[1] * ow * cout])))")
      } else {
        w.line("let xr = xp + \(indexExpr(rows.terms([g.stride[0] * pd[1] * pd[2] * cin, rowStride])))")
        w.line("let yr = y + \(indexExpr(rows.terms([g.output[1] * ow * cout, ow * cout])))")
      }
      let groups = LoopNest(vars: [("g", g.groups)])
      groups.write(&w) { w in
        // Blocks whose lanes are all real channels run in a loop over `cb`; the last block
        // (one or two vectors, some lanes padding) is written out on its own.
        let fullBlocks = go / B
        var kinds: [(cb: String, start: Int, bw: Int, valid: Int)] = []
        if fullBlocks > 0 { kinds.append(("cb", 0, B, B)) }
        if go % B > 0 { kinds.append(("\(fullBlocks)", fullBlocks * B, gop - fullBlocks * B, go % B)) }
        for kind in kinds {
          let bw = kind.bw, nv = bw / L
          let pb = blocking.pixels(run: pixelCount, vectors: nv)
          let cbTerms: [(String, Int)] = kind.cb == "cb" ? [("cb", 1)] : []
          func tile(_ n: Int, _ ox: String, _ w: inout SourceWriter) {
            w.block("do") { w in
              if !flat { w.line("let xo = xr + \(indexExpr(groups.terms([gi]) + (ox == "0" ? [] : [(ox, sw)])))") }
              w.line(
                "let wb = w + \(indexExpr(groups.terms([gop * taps * gi]) + cbTerms.map { ($0.0, B * taps * gi) }, kind.start * taps * gi))"
              )
              w.line(
                "let yo = yr + \(indexExpr(groups.terms([go]) + (ox == "0" ? [] : [(ox, cout)]) + cbTerms.map { ($0.0, B) }, kind.start))")
              if flat {
                // Each pixel of the tile gets its own input pointer (the tile may span rows).
                let groupTerm = groups.terms([gi])
                for q in 0..<n {
                  if let start = Int(ox) {
                    let px = start + q
                    w.line("let p\(q) = xr + \(indexExpr(groupTerm, px / ow * rowStride + px % ow * sw))")
                  } else {
                    let px = "(\(ox) + \(q))"
                    w.line("let p\(q) = xr + \(indexExpr(groupTerm + [("\(px) / \(ow)", rowStride), ("\(px) % \(ow)", sw)]))")
                  }
                }
              }
              for q in 0..<n { for v in 0..<nv { w.line("var a\(q)_\(v) = SIMD\(L)<Float>()") } }
              // `x(q)` is the element read for pixel q at input channel `ci` of the current tap.
              func tapBody(_ x: (Int) -> String, _ wt: String, _ w: inout SourceWriter) {
                w.block("for ci in 0..<\(gi)") { w in
                  for v in 0..<nv { w.line("let w\(v) = Self.load\(L)(\(wt) + ci * \(bw)\(v == 0 ? "" : " + \(v * L)"))") }
                  for q in 0..<n {
                    w.line("let x\(q) = SIMD\(L)<Float>(repeating: \(x(q)))")
                    for v in 0..<nv { w.line("a\(q)_\(v) = a\(q)_\(v).addingProduct(x\(q), w\(v))") }
                  }
                }
              }
              if unroll {
                for t in 0..<taps {
                  let x: (Int) -> String =
                    flat
                    ? { q in "p\(q)[\(indexExpr([("ci", 1)], tapOff[t]))]" }
                    : { q in "(xo + \(tapOff[t]))[ci\(q == 0 ? "" : " + \(q * sw)")]" }
                  tapBody(x, "(wb + \(t * gi * bw))", &w)
                }
              } else {
                let k = LoopNest(vars: [("kd", g.kernel[0]), ("kh", g.kernel[1]), ("kw", g.kernel[2])])
                k.write(&w) { w in
                  let tapTerm = indexExpr(k.terms([g.dilation[0] * pd[1] * pd[2] * cin, g.dilation[1] * pd[2] * cin, g.dilation[2] * cin]))
                  if flat {
                    w.line("let to = \(tapTerm)")
                  } else {
                    w.line("let xt = xo + \(tapTerm)")
                  }
                  w.line("let wt = wb + \(indexExpr(k.terms([g.kernel[1] * g.kernel[2] * gi * bw, g.kernel[2] * gi * bw, gi * bw])))")
                  let x: (Int) -> String = flat ? { q in "p\(q)[to + ci]" } : { q in "xt[ci\(q == 0 ? "" : " + \(q * sw)")]" }
                  tapBody(x, "wt", &w)
                }
              }
              for v in 0..<nv {
                if hasBias {
                  w.line("let b\(v) = Self.load\(L)(b + \(indexExpr(groups.terms([gop]) + cbTerms.map { ($0.0, B) }, kind.start + v * L)))")
                }
              }
              let act = vectorActivation(step.activation)
              for q in 0..<n {
                for v in 0..<nv {
                  let valid = min(L, kind.valid - v * L)
                  if valid <= 0 { continue }
                  w.line("\(act.isEmpty ? "let" : "var") r\(q)_\(v) = a\(q)_\(v)\(hasBias ? " + b\(v)" : "")")
                  for l in vectorActivation(step.activation, "r\(q)_\(v)") { w.line(l) }
                  let at = q * cout + v * L
                  if valid == L {
                    w.line("Self.store\(L)(yo + \(at), r\(q)_\(v))")
                  } else {
                    w.line("for l in 0..<\(valid) { yo[\(at) + l] = r\(q)_\(v)[l] }")
                  }
                }
              }
            }
          }
          func pixels(_ w: inout SourceWriter) {
            if pixelCount / pb > 0 {
              w.block("for t in 0..<\(pixelCount / pb)") { w in tile(pb, "t * \(pb)", &w) }
            }
            if pixelCount % pb > 0 { tile(pixelCount % pb, "\(pixelCount / pb * pb)", &w) }
          }
          if kind.cb == "cb" && fullBlocks > 1 {
            w.block("for cb in 0..<\(fullBlocks)") { w in pixels(&w) }
          } else if kind.cb == "cb" {
            w.line("let cb = 0")
            pixels(&w)
          } else {
            pixels(&w)
          }
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

  /// Max and average pools: a padded copy (-inf or 0), taps unrolled, channels in vectors.
  /// Average pools divide by the taps inside the padded input, as PyTorch's default.
  func pool(_ step: EmitPlan.Step, _ g: ConvGeometry, _ w: inout SourceWriter) {
    let isMax = step.node.op == .maxpool
    let c = g.inChannels
    let pd = paddedInput(g, fill: isMax ? "-Float.infinity" : "0", &w)
    let tapOff = tapOffsets(g, padded: pd)
    let out = LoopNest(vars: [("od", g.output[0]), ("oh", g.output[1]), ("ow", g.output[2])])
    // Divisor per axis: the window's taps inside [-padBegin, in + padEnd).
    var divisor: [String] = []
    var constant = 1
    for a in 0..<3 {
      let counts = (0..<g.output[a]).map { o -> Int in
        let s = o * g.stride[a] - g.padBegin[a]
        return min(s + g.kernel[a], g.input[a] + g.padEnd[a]) - max(s, -g.padBegin[a])
      }
      if Set(counts).count == 1 {
        constant *= counts[0]
      } else {
        let v = out.vars[a].name
        divisor.append(
          "(min(\(v) * \(g.stride[a]) + \(g.kernel[a] - g.padBegin[a]), \(g.input[a] + g.padEnd[a])) - max(\(v) * \(g.stride[a]) - \(g.padBegin[a]), \(-g.padBegin[a])))"
        )
      }
    }
    out.write(&w) { w in
      w.line("let xo = xp + \(indexExpr(out.terms([g.stride[0] * pd[1] * pd[2] * c, g.stride[1] * pd[2] * c, g.stride[2] * c])))")
      w.line("let yo = y + \(indexExpr(out.terms([g.output[1] * g.output[2] * c, g.output[2] * c, c])))")
      if !isMax {
        let count =
          divisor.isEmpty ? "\(constant)" : ([constant == 1 ? nil : "\(constant)"].compactMap { $0 } + divisor).joined(separator: " * ")
        w.line("let n = Float(\(count))")
      }
      let mut = tapOff.count > 1 ? "var" : "let"
      vectorLoops(c, "c", &w) { k, w in
        w.line("\(mut) m = Self.load\(k)(xo + \(indexExpr([("c", 1)], tapOff[0])))")
        for t in tapOff.dropFirst() {
          w.line(
            isMax ? "let v\(t) = Self.load\(k)(xo + \(indexExpr([("c", 1)], t)))" : "m += Self.load\(k)(xo + \(indexExpr([("c", 1)], t)))")
          if isMax { w.line("m = m.replacing(with: v\(t), where: v\(t) .> m)") }
        }
        w.line(isMax ? "Self.store\(k)(yo + c, m)" : "Self.store\(k)(yo + c, m / SIMD\(k)<Float>(repeating: n))")
      } scalar: { w in
        w.line("\(mut) m = xo[\(indexExpr([("c", 1)], tapOff[0]))]")
        for t in tapOff.dropFirst() {
          w.line(isMax ? "m = max(m, xo[\(indexExpr([("c", 1)], t))])" : "m += xo[\(indexExpr([("c", 1)], t))]")
        }
        w.line(isMax ? "yo[c] = m" : "yo[c] = m / n")
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

  /// ReLU, ReLU6 and LeakyReLU in vectors; sigmoid, tanh and GELU through the Double helpers.
  mutating func elementwise(_ step: EmitPlan.Step, _ w: inout SourceWriter) {
    let node = step.node
    let n = shapes[node.id].reduce(1, *)
    switch node.op {
    case .relu, .relu6, .leakyrelu:
      vectorLoops(n, "i", &w) { k, w in
        w.line("var r = Self.load\(k)(x + i)")
        for l in vectorActivation(node) { w.line(l) }
        w.line("Self.store\(k)(y + i, r)")
      } scalar: { w in
        w.line("y[i] = \(scalarActivation(node.op, node, "x[i]"))")
      }
    case .sigmoid, .tanh, .gelu:
      uses.insert(node.op == .gelu ? "erf" : node.op == .tanh ? "tanh" : "exp")
      w.block("for i in 0..<\(n)") { w in w.line("y[i] = \(scalarActivation(node.op, node, "x[i]"))") }
    default:
      w.line("y.update(from: x, count: \(n))")
    }
  }
}
