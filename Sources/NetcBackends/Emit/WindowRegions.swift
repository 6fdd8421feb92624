/// The border/interior split of a window op's output. Along each axis, consecutive output
/// positions whose windows read the same kernel taps inside the input form a segment: the
/// interior (every tap inside) and, before and after it, the border (windows cut by the
/// padding or by a ceil-rounded last window). A region takes one segment per axis, so all
/// its windows read the same box of taps: its loops need no bounds test and no padded copy,
/// and the taps that fall in the padding are simply not emitted.
struct WindowRegion {
  /// Output positions `from..<to` along one axis, whose windows read taps `tapFrom..<tapTo`.
  struct Segment: Equatable {
    var from: Int, to: Int
    var tapFrom: Int, tapTo: Int
    var count: Int { to - from }
    var taps: Int { tapTo - tapFrom }
  }

  /// Depth, height and width segments.
  var axes: [Segment]

  /// Taps read per window (0 when a window lies wholly in the padding).
  var taps: Int { axes.reduce(1) { $0 * $1.taps } }
  /// Output positions in the region.
  var positions: Int { axes.reduce(1) { $0 * $1.count } }

  /// Segments of axis `a`, in order.
  static func segments(_ g: ConvGeometry, axis a: Int) -> [Segment] {
    let k = g.kernel[a], d = g.dilation[a], n = g.input[a]
    var out: [Segment] = []
    for o in 0..<g.output[a] {
      // Tap t reads input position start + t * d, which must lie in 0..<n.
      let start = o * g.stride[a] - g.padBegin[a]
      var lo = start < 0 ? (-start + d - 1) / d : 0
      var hi = start > n - 1 ? 0 : min(k, (n - 1 - start) / d + 1)
      if lo >= hi { (lo, hi) = (0, 0) }
      if let last = out.last, last.tapFrom == lo, last.tapTo == hi {
        out[out.count - 1].to = o + 1
      } else {
        out.append(Segment(from: o, to: o + 1, tapFrom: lo, tapTo: hi))
      }
    }
    return out
  }

  /// Every region of `g`, depth-major then row-major.
  static func regions(_ g: ConvGeometry) -> [WindowRegion] {
    let s = (0..<3).map { segments(g, axis: $0) }
    return s[0].flatMap { d in s[1].flatMap { h in s[2].map { w in WindowRegion(axes: [d, h, w]) } } }
  }

  /// The input coordinate along axis `a` of the first tap read by output position `o` is
  /// `o * stride + firstTapOffset(a)`.
  func firstTapOffset(_ g: ConvGeometry, _ a: Int) -> Int {
    axes[a].tapFrom * g.dilation[a] - g.padBegin[a]
  }

  /// The taps read, in (kd, kh, kw) order: each tap's index into the whole kernel, and its
  /// input offset in elements (channels `c` per position) from the region's first tap.
  func tapList(_ g: ConvGeometry, channels c: Int) -> [(index: Int, offset: Int)] {
    var out: [(index: Int, offset: Int)] = []
    for kd in axes[0].tapFrom..<axes[0].tapTo {
      for kh in axes[1].tapFrom..<axes[1].tapTo {
        for kw in axes[2].tapFrom..<axes[2].tapTo {
          let index = (kd * g.kernel[1] + kh) * g.kernel[2] + kw
          let offset =
            (((kd - axes[0].tapFrom) * g.dilation[0] * g.input[1] + (kh - axes[1].tapFrom) * g.dilation[1]) * g.input[2]
              + (kw - axes[2].tapFrom) * g.dilation[2]) * c
          out.append((index, offset))
        }
      }
    }
    return out
  }

  /// Whether every window of the region reads the whole kernel.
  func isInterior(_ g: ConvGeometry) -> Bool {
    (0..<3).allSatisfy { axes[$0].tapFrom == 0 && axes[$0].tapTo == g.kernel[$0] }
  }

  /// A one-line description for the emitted source: the output box, and the taps read
  /// when they are not the whole kernel (only the axes that have extent or taps to show).
  func describe(_ g: ConvGeometry) -> String {
    let shown = (0..<3).filter { g.output[$0] > 1 || g.kernel[$0] > 1 }
    let box = shown.map { "\(axes[$0].from)..<\(axes[$0].to)" }.joined(separator: ", ")
    if isInterior(g) { return "Interior: output [\(box)], every tap." }
    if taps == 0 { return "Border: output [\(box)], every tap in the padding." }
    let t = shown.map { "\(axes[$0].tapFrom)..<\(axes[$0].tapTo)" }.joined(separator: ", ")
    return "Border: output [\(box)], taps [\(t)]."
  }
}
