/// A register-blocked direct conv's kernel: per group, blocks of two vectors of output
/// channels (16 at width 8, 32 at width 16) by a tile of pixels, or one vector by a longer
/// tile (`ConvTile`); weights [g][block][tap][ci][lane], or, when a block's weights are
/// split into chunks of input channels, [block][chunk][tap][ci][lane].
struct DirectConvEmitter {
  /// A block of output channels within a group.
  struct Block {
    /// `cb`, the loop variable over the blocks whose lanes are all real channels, or the
    /// index of the last block (one or two vectors, some lanes padding), written out on its own.
    var index: String
    /// Its first channel, its width in lanes and the real channels among them.
    var start: Int, width: Int, valid: Int
    /// Vectors per pixel.
    var vectors: Int
    /// How each region that reads taps is tiled, in order.
    var regions: [RegionTiling]

    /// The term of `cb` in index expressions, when the block is the loop's.
    var loopTerms: [(String, Int)] { index == "cb" ? [("cb", 1)] : [] }
  }

  /// How one region's output pixels are tiled for one block.
  struct RegionTiling {
    var region: WindowRegion
    /// The taps its windows read.
    var taps: [(index: Int, offset: Int)]
    /// Whether the rows of a depth slice are tiled as one flat run of pixels, each pixel of
    /// a tile with its own input pointer, instead of row by row.
    var flat: Bool
    /// Whether a tile's pixels are stored to consecutive outputs: flat tiles are only when
    /// the region's rows are whole rows.
    var contiguous: Bool
    /// Pixels of one run (a row, or a depth slice's rows when flat), and per tile.
    var run: Int, pixels: Int
    /// Only the interior unrolls its taps (and only up to 9 of them): a border region loops.
    var unrolled: Bool
  }

  /// The schedule of the kernel, decided before any source is written.
  struct TilePlan {
    /// Lanes per vector, and lanes per full block.
    var lanes: Int, blockWidth: Int
    /// Output channels per group, padded to whole vectors.
    var paddedGroupOut: Int
    /// Input channels per chunk when a block's weights are chunked (`ConvTile.inputChunk`).
    var chunk: Int?
    /// Input channels per chunk (all of a group's when unchunked), and chunks.
    var chunkInputs: Int, chunks: Int
    /// Blocks whose lanes are all real channels.
    var fullBlocks: Int
    /// Every region of the output, in order.
    var regions: [WindowRegion]
    /// The full blocks (run in a loop over `cb`) and the tail block, those that exist.
    var blocks: [Block]

    init(_ g: ConvGeometry, _ blocking: ConvTile) {
      let gi = g.groupIn, go = g.groupOut
      lanes = blocking.lanes
      blockWidth = blocking.vectors * lanes
      paddedGroupOut = (go + lanes - 1) / lanes * lanes
      chunk = g.groups == 1 && go % blockWidth == 0 ? blocking.inputChunk(taps: g.taps, inputs: gi) : nil
      chunkInputs = chunk ?? gi
      chunks = gi / chunkInputs
      regions = WindowRegion.regions(g)
      fullBlocks = go / blockWidth
      var blocks: [(index: String, start: Int, width: Int, valid: Int)] = []
      if fullBlocks > 0 { blocks.append(("cb", 0, blockWidth, blockWidth)) }
      if go % blockWidth > 0 {
        blocks.append(("\(fullBlocks)", fullBlocks * blockWidth, paddedGroupOut - fullBlocks * blockWidth, go % blockWidth))
      }
      let lanes = lanes, reading = regions.filter { $0.taps > 0 }
      self.blocks = blocks.map { b in
        let vectors = b.width / lanes
        return Block(
          index: b.index, start: b.start, width: b.width, valid: b.valid, vectors: vectors,
          regions: reading.map { Self.tiling($0, g, blocking, vectors: vectors) })
      }
    }

    /// How `region` is tiled for a block of `vectors` vectors. Rows are tiled one by one
    /// unless the rows of a depth slice, tiled as one flat run of pixels, need fewer tiles by
    /// more than a tenth: then each pixel of a tile gets its own input pointer (row-aware
    /// addressing), and a 5x5 interior is 4 tiles, not 5 x 1. Row tiles need no pointer per
    /// pixel, which counts when the input channels are few (the 30-wide interior of a
    /// 32x32x3 conv: 2 tiles of 15 per row).
    static func tiling(_ region: WindowRegion, _ g: ConvGeometry, _ blocking: ConvTile, vectors nv: Int) -> RegionTiling {
      let taps = region.tapList(g, channels: g.inChannels)
      let a = region.axes
      let rowWidth = a[2].count
      let rowTile = min(blocking.pixels(run: rowWidth, vectors: nv), rowWidth)
      let rowTiles = a[1].count * ((rowWidth + rowTile - 1) / rowTile)
      let flatTile = blocking.pixels(run: a[1].count * rowWidth, vectors: nv)
      let flatTiles = (a[1].count * rowWidth + flatTile - 1) / flatTile
      let flat = a[1].count > 1 && rowTiles * 10 > flatTiles * 11
      return RegionTiling(
        region: region, taps: taps, flat: flat, contiguous: !flat || rowWidth == g.output[2],
        run: flat ? a[1].count * rowWidth : rowWidth, pixels: flat ? flatTile : rowTile,
        unrolled: region.isInterior(g) && taps.count <= 9)
    }
  }

  let step: EmitPlan.Step
  let geometry: ConvGeometry
  let plan: TilePlan
  let hasBias: Bool
  /// Weights in the blocks' layout with the folded BN's scale applied, and bias per group
  /// padded to `paddedGroupOut`.
  let packedWeights: [Float]
  let packedBias: [Float]

  init(step: EmitPlan.Step, geometry g: ConvGeometry, blocking: ConvTile, weights: FoldedConvWeights) {
    self.step = step
    geometry = g
    plan = TilePlan(g, blocking)
    hasBias = weights.hasBias
    let gi = g.groupIn, go = g.groupOut, taps = g.taps
    let B = plan.blockWidth, gop = plan.paddedGroupOut, ck = plan.chunkInputs
    let weight = weights.weight, scale = weights.scale, bias = weights.bias
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
    packedWeights = packed
    self.packedBias = packedBias
  }

  /// Writes the kernel's body; `e` lends the helpers shared by every kernel.
  func write(_ e: Emission, _ w: inout SourceWriter) {
    let g = geometry, cout = g.outChannels
    let positions = g.outPositions
    if plan.chunk != nil {
      // Chunks of input channels: a block's weights for one chunk stay in L1 while every
      // tile of every region meets them, the sums carried in the output between chunks. The
      // output starts as the bias; the activation runs over it once the last chunk is in.
      w.line("// The output starts as the bias; \(plan.chunks) chunks of \(plan.chunkInputs) input channels add to it.")
      if hasBias {
        w.block("for q in 0..<\(positions)") { w in w.line("(y + q * \(cout)).update(from: b, count: \(cout))") }
      } else {
        w.line("y.update(repeating: 0, count: \(positions * cout))")
      }
    } else {
      for region in plan.regions where region.taps == 0 {
        w.line("// \(region.describe(g))")
        e.paddingOnly(region, g, groups: g.groups, biasStride: plan.paddedGroupOut, hasBias: hasBias, step, &w)
      }
    }
    for block in plan.blocks {
      func regionsOfBlock(_ w: inout SourceWriter) {
        for tiling in block.regions {
          w.line("// \(tiling.region.describe(g))")
          writeRegion(tiling, of: block, e, &w)
        }
      }
      func chunkLoop(_ w: inout SourceWriter) {
        if plan.chunks > 1 {
          w.block("for kc in 0..<\(plan.chunks)") { w in regionsOfBlock(&w) }
        } else {
          regionsOfBlock(&w)
        }
      }
      if block.index == "cb" && plan.fullBlocks > 1 {
        w.block("for cb in 0..<\(plan.fullBlocks)") { w in chunkLoop(&w) }
      } else if block.index == "cb" {
        w.block("do") { w in
          w.line("let cb = 0")
          chunkLoop(&w)
        }
      } else {
        chunkLoop(&w)
      }
    }
    if plan.chunk != nil, let activation = step.activation { e.activationLoop(activation, count: positions * cout, from: "y", &w) }
  }

  /// One region's tiles for one block of output channels (the block `cb`, or the tail
  /// block, for every group), all its input channels or the chunk `kc` of them.
  func writeRegion(_ t: RegionTiling, of block: Block, _ e: Emission, _ w: inout SourceWriter) {
    let g = geometry, cin = g.inChannels, cout = g.outChannels
    let s = e.strides(g, in: cin, out: cout)
    let a = t.region.axes
    let slices =
      t.flat
      ? LoopNest(ranges: [("od", a[0].from, a[0].to)]) : LoopNest(ranges: [("od", a[0].from, a[0].to), ("oh", a[1].from, a[1].to)])
    slices.write(&w, scoped: true) { w in
      if t.flat {
        w.line("let xr = x + \(slices.index([g.stride[0] * s.inSlice], e.firstTap(t.region, g, cin, fold: [0, a[1].from, a[2].from])))")
        w.line("let yr = y + \(slices.index([s.outSlice], a[1].from * s.outRow + a[2].from * cout))")
      } else {
        let at = e.firstTap(t.region, g, cin, fold: [0, 0, a[2].from])
        w.line("let xr = x + \(slices.index([g.stride[0] * s.inSlice, g.stride[1] * s.inRow], at))")
        w.line("let yr = y + \(slices.index([s.outSlice, s.outRow], a[2].from * cout))")
      }
      let groups = LoopNest(vars: [("g", g.groups)])
      groups.write(&w) { w in
        // Chunks add to the output, so their tiles may not overlap.
        e.overlappingTiles(t.run, t.pixels, overlap: plan.chunk == nil, &w) { n, ox, w in
          writeTile(t, of: block, pixels: n, at: ox, groups: groups, e, &w)
        }
      }
    }
  }

  /// Terms of pixel `q` of the tile at `ox`: its row and column in a region whose rows are
  /// `rowWidth` pixels, with the given coefficients.
  static func pixelTerms(_ ox: String, _ q: Int, rowWidth: Int, row: Int, column: Int) -> ([(String, Int)], Int) {
    if let start = Int(ox) {
      let px = start + q
      return ([], px / rowWidth * row + px % rowWidth * column)
    }
    let px = "(\(ox) + \(q))"
    if rowWidth == 1 { return ([(px, row)], 0) }
    return ([("\(px) / \(rowWidth)", row), ("\(px) % \(rowWidth)", column)], 0)
  }

  /// A tile of `n` pixels from the expression `ox`: pointers, one accumulator per pixel and
  /// vector, the taps over the block's input channels, then the stores.
  func writeTile(
    _ t: RegionTiling, of block: Block, pixels n: Int, at ox: String, groups: LoopNest, _ e: Emission, _ w: inout SourceWriter
  ) {
    let g = geometry, cout = g.outChannels, gi = g.groupIn, taps = g.taps
    let s = e.strides(g, in: g.inChannels, out: cout)
    let sw = g.stride[2] * g.inChannels, rowStride = g.stride[1] * s.inRow
    let L = plan.lanes, B = plan.blockWidth, gop = plan.paddedGroupOut
    let chunks = plan.chunks, ck = plan.chunkInputs
    let nv = block.vectors, cbTerms = block.loopTerms
    // Weights of a tap within the block (and chunk), and of the block's chunk.
    let tapStride = ck * block.width
    let chunkTerm: [(String, Int)] = chunks > 1 ? [("kc", ck)] : []
    let rowWidth = t.region.axes[2].count
    w.block("do") { w in
      if !t.flat { w.line("let xo = xr + \(indexExpr(groups.terms([gi]) + (ox == "0" ? [] : [(ox, sw)])))") }
      let weightTerms =
        groups.terms([gop * taps * gi]) + cbTerms.map { ($0.0, B * taps * gi) } + chunkTerm.map { ($0.0, taps * tapStride) }
      w.line("let wb = w + \(indexExpr(weightTerms, block.start * taps * gi))")
      let pixelTerm: [(String, Int)] = t.contiguous && ox != "0" ? [(ox, cout)] : []
      w.line("let yo = yr + \(indexExpr(groups.terms([g.groupOut]) + pixelTerm + cbTerms.map { ($0.0, B) }, block.start))")
      if t.flat {
        // Each pixel of the tile gets its own input pointer (the tile may span rows),
        // and its own output pointer when the region's rows are not whole rows.
        for q in 0..<n {
          let (terms, constant) = Self.pixelTerms(ox, q, rowWidth: rowWidth, row: rowStride, column: sw)
          w.line("let p\(q) = xr + \(indexExpr(groups.terms([gi]) + terms + chunkTerm, constant))")
        }
        if !t.contiguous {
          for q in 0..<n {
            let (terms, constant) = Self.pixelTerms(ox, q, rowWidth: rowWidth, row: s.outRow, column: cout)
            w.line("let o\(q) = yo + \(indexExpr(terms, constant))")
          }
        }
      } else if chunks > 1 {
        w.line("let xc = xo + kc * \(ck)")
      }
      let xBase = t.flat ? "" : chunks > 1 ? "xc" : "xo"
      // Pixel q's output, vector v.
      func output(_ q: Int, _ v: Int) -> String { t.contiguous ? "yo + \(q * cout + v * L)" : "o\(q)\(v == 0 ? "" : " + \(v * L)")" }
      for q in 0..<n {
        for v in 0..<nv { w.line("var a\(q)_\(v) = \(plan.chunk != nil ? "Self.load\(L)(\(output(q, v)))" : "SIMD\(L)<Float>()")") }
      }
      // `x(q)` is the element read for pixel q at input channel `ci` of the current tap.
      func tapBody(_ x: (Int) -> String, _ wt: String, _ w: inout SourceWriter) {
        w.block("for ci in 0..<\(ck)") { w in
          for v in 0..<nv { w.line("let w\(v) = Self.load\(L)(\(wt) + ci * \(block.width)\(v == 0 ? "" : " + \(v * L)"))") }
          for q in 0..<n {
            w.line("let x\(q) = SIMD\(L)<Float>(repeating: \(x(q)))")
            for v in 0..<nv { w.line("a\(q)_\(v) = a\(q)_\(v).addingProduct(x\(q), w\(v))") }
          }
        }
      }
      if t.unrolled {
        for (j, tap) in t.taps.enumerated() {
          let x: (Int) -> String =
            t.flat
            ? { q in "p\(q)[\(indexExpr([("ci", 1)], tap.offset))]" }
            : { q in "(\(xBase) + \(tap.offset))[ci\(q == 0 ? "" : " + \(q * sw)")]" }
          tapBody(x, "(wb + \(t.taps[j].index * tapStride))", &w)
        }
      } else {
        let (k, tapInput, tapIndex) = e.tapLoops(t.region, g)
        k.write(&w) { w in
          let tapTerm = k.index(tapInput)
          if t.flat {
            w.line("let to = \(tapTerm)")
          } else {
            w.line("let xt = \(xBase) + \(tapTerm)")
          }
          let wt = k.index(tapIndex.map { $0 * tapStride }, t.taps[0].index * tapStride)
          w.line("let wt = wb + \(wt)")
          let x: (Int) -> String = t.flat ? { q in "p\(q)[to + ci]" } : { q in "xt[ci\(q == 0 ? "" : " + \(q * sw)")]" }
          tapBody(x, "wt", &w)
        }
      }
      // Chunks store the sums as they are; otherwise bias and activation come here.
      let epilogue = plan.chunk == nil
      for v in 0..<nv where epilogue && hasBias {
        w.line("let b\(v) = Self.load\(L)(b + \(indexExpr(groups.terms([gop]) + cbTerms.map { ($0.0, B) }, block.start + v * L)))")
      }
      let act = epilogue ? e.vectorActivation(step.activation) : []
      for q in 0..<n {
        for v in 0..<nv {
          let valid = min(L, block.valid - v * L)
          if valid <= 0 { continue }
          w.line("\(act.isEmpty ? "let" : "var") r\(q)_\(v) = a\(q)_\(v)\(epilogue && hasBias ? " + b\(v)" : "")")
          if epilogue { for l in e.vectorActivation(step.activation, "r\(q)_\(v)") { w.line(l) } }
          if valid == L {
            w.line("Self.store\(L)(\(output(q, v)), r\(q)_\(v))")
          } else {
            w.line("for l in 0..<\(valid) { (\(output(q, v)))[l] = r\(q)_\(v)[l] }")
          }
        }
      }
    }
  }
}
