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
}
