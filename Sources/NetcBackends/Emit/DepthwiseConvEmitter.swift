/// A depthwise conv's kernel (one input and one output channel per group): per region, rows
/// of output pixels, channels in vectors, a tile of pixels per pass over the taps. Weights
/// [tap][C], bias [C].
struct DepthwiseConvEmitter {
  /// How one region is computed.
  struct RegionPlan {
    var region: WindowRegion
    /// The taps its windows read; none when they lie wholly in the padding.
    var taps: [(index: Int, offset: Int)]
    /// The interior unrolls its taps; a border region loops over its (fewer) taps, which
    /// keeps the source, and the compile time, from growing with the number of regions.
    var unrolled: Bool
    /// Whether the unrolled taps' weight vectors are loaded once per channel vector, ahead
    /// of the pixel tiles, rather than in every tile.
    var keepsWeights: Bool
  }

  /// The schedule of the kernel, decided before any source is written.
  struct TilePlan {
    /// Every region of the output, in order.
    var regions: [RegionPlan]
    /// Output pixels per tile.
    var pixels = 4

    init(_ g: ConvGeometry) {
      regions = WindowRegion.regions(g).map { region in
        let taps = region.tapList(g, channels: g.inChannels)
        let unrolled = region.isInterior(g)
        return RegionPlan(region: region, taps: taps, unrolled: unrolled, keepsWeights: unrolled && taps.count <= 16)
      }
    }
  }

  let step: EmitPlan.Step
  let geometry: ConvGeometry
  let plan: TilePlan
  let hasBias: Bool
  /// Weights [tap][C] with the folded BN's scale applied, and bias [C].
  let packedWeights: [Float]
  let packedBias: [Float]

  init(step: EmitPlan.Step, geometry g: ConvGeometry, weights: FoldedConvWeights) {
    self.step = step
    geometry = g
    plan = TilePlan(g)
    hasBias = weights.hasBias
    let cout = g.outChannels, taps = g.taps
    var packed = [Float](repeating: 0, count: taps * cout)
    for c in 0..<cout { for t in 0..<taps { packed[t * cout + c] = weights.weight[c * taps + t] * weights.scale[c] } }
    packedWeights = packed
    packedBias = weights.bias
  }

  /// Writes the kernel's body; `e` lends the helpers shared by every kernel.
  func write(_ e: Emission, _ w: inout SourceWriter) {
    for r in plan.regions {
      w.line("// \(r.region.describe(geometry))")
      if r.taps.isEmpty {
        e.paddingOnly(r.region, geometry, groups: 1, biasStride: geometry.outChannels, hasBias: hasBias, step, &w)
        continue
      }
      writeRegion(r, e, &w)
    }
  }

  /// One region that reads taps: per row, channel vectors in tiles of pixels, then the
  /// channels past the last vector one pixel at a time.
  func writeRegion(_ r: RegionPlan, _ e: Emission, _ w: inout SourceWriter) {
    let g = geometry, cin = g.inChannels, cout = g.outChannels
    let s = e.strides(g, in: cin, out: cout)
    let sw = g.stride[2] * cin
    let a = r.region.axes
    let rows = LoopNest(ranges: [("od", a[0].from, a[0].to), ("oh", a[1].from, a[1].to)])
    let ow = a[2].count
    let (tapLoops, tapInput, tapIndex) = e.tapLoops(r.region, g)
    let tapWeight = tapIndex.map { $0 * cout }
    rows.write(&w, scoped: true) { w in
      w.line(
        "let xr = x + \(rows.index([g.stride[0] * s.inSlice, g.stride[1] * s.inRow], e.firstTap(r.region, g, cin, fold: [0, 0, a[2].from])))"
      )
      w.line("let yr = y + \(rows.index([s.outSlice, s.outRow], a[2].from * cout))")
      e.vectorLoops(cout, "c", &w) { k, w in
        if r.keepsWeights {
          for (j, t) in r.taps.enumerated() { w.line("let k\(j) = Self.load\(k)(w + \(indexExpr([("c", 1)], t.index * cout)))") }
        }
        w.line("let bv = \(hasBias ? "Self.load\(k)(b + c)" : "SIMD\(k)<Float>()")")
        e.overlappingTiles(ow, plan.pixels, &w) { n, ox, w in writeTile(r, width: k, pixels: n, at: ox, e, &w) }
      } scalar: { w in
        w.block("for ox in 0..<\(ow)") { w in
          w.line("let xo = xr + ox * \(sw) + c")
          w.line("var v: Float = \(hasBias ? "b[c]" : "0")")
          if r.unrolled {
            for t in r.taps { w.line("v += xo[\(t.offset)] * w[\(indexExpr([("c", 1)], t.index * cout))]") }
          } else {
            tapLoops.write(&w) { w in
              w.line("v += xo[\(tapLoops.index(tapInput))] * w[c + \(tapLoops.index(tapWeight, r.taps[0].index * cout))]")
            }
          }
          w.line("yr[ox * \(cout) + c] = \(step.activation.map { e.scalarActivation($0.op, $0, "v") } ?? "v")")
        }
      }
    }
  }

  /// A tile of `n` pixels from the expression `ox` for the channel vector at `c`, `k` lanes
  /// wide: one accumulator per pixel, the taps, then bias, activation and store.
  func writeTile(_ r: RegionPlan, width k: Int, pixels n: Int, at ox: String, _ e: Emission, _ w: inout SourceWriter) {
    let g = geometry, cout = g.outChannels
    let sw = g.stride[2] * g.inChannels
    let (tapLoops, tapInput, tapIndex) = e.tapLoops(r.region, g)
    let tapWeight = tapIndex.map { $0 * cout }
    w.block("do") { w in
      w.line("let xo = xr + \(ox == "0" ? "c" : "\(ox) * \(sw) + c")")
      for q in 0..<n { w.line("var a\(q) = bv") }
      if r.unrolled {
        for (j, t) in r.taps.enumerated() {
          let kt = r.keepsWeights ? "k\(j)" : "Self.load\(k)(w + \(indexExpr([("c", 1)], t.index * cout)))"
          for q in 0..<n { w.line("a\(q) = a\(q).addingProduct(Self.load\(k)(xo + \(t.offset + q * sw)), \(kt))") }
        }
      } else {
        tapLoops.write(&w) { w in
          w.line("let xt = xo + \(tapLoops.index(tapInput))")
          w.line("let kt = Self.load\(k)(w + c + \(tapLoops.index(tapWeight, r.taps[0].index * cout)))")
          for q in 0..<n { w.line("a\(q) = a\(q).addingProduct(Self.load\(k)(xt + \(q * sw)), kt)") }
        }
      }
      for q in 0..<n {
        let act = e.vectorActivation(step.activation, "r\(q)")
        w.line("\(act.isEmpty ? "let" : "var") r\(q) = a\(q)")
        for l in act { w.line(l) }
        w.line("Self.store\(k)(yr + \(ox == "0" ? "" : "\(ox) * \(cout) + ")\(q * cout) + c, r\(q))")
      }
    }
  }
}
