import NetcIR

extension Emission {
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
}
