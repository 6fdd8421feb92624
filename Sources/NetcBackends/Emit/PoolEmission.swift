extension Emission {
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
      // Divisor per axis: the window's (dilated) taps inside [-padBegin, in + padEnd), a
      // constant unless it changes along the region's positions. A window starts at or
      // after -padBegin, so only its end is cut: min(k, (in + padEnd - 1 - start) / d + 1).
      var divisor: [String] = []
      var constant = 1
      for x in 0..<3 {
        let last = g.input[x] + g.padEnd[x] + g.padBegin[x] - 1
        let counts = (a[x].from..<a[x].to).map { o in min(g.kernel[x], (last - o * g.stride[x]) / g.dilation[x] + 1) }
        if Set(counts).count == 1 {
          constant *= counts[0]
        } else {
          let v = out.vars[x].name
          divisor.append("min(\(g.kernel[x]), (\(last) - \(v) * \(g.stride[x])) / \(g.dilation[x]) + 1)")
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
}
