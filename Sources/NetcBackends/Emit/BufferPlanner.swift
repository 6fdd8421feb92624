/// Places intermediate buffers in one arena so that buffers whose lifetimes do not overlap
/// share memory. Lifetimes are step intervals; placement is first fit over the free gaps,
/// in step order, which is deterministic.
struct BufferPlanner {
  /// One buffer: its size in elements and the steps during which it holds a live value.
  struct Buffer {
    var size: Int
    /// The step that writes it first and the last step that reads it.
    var first: Int, last: Int
  }

  /// Offsets are rounded up to this many elements (16 floats = one 64-byte cache line).
  static let alignment = 16

  /// Offsets of `buffers` in the arena, and the arena's size (the peak).
  static func plan(_ buffers: [Buffer]) -> (offsets: [Int], peak: Int) {
    var offsets = Array(repeating: 0, count: buffers.count)
    // Live blocks (offset, end, last step), kept sorted by offset.
    var live: [(start: Int, end: Int, last: Int)] = []
    var peak = 0
    let order = buffers.indices.sorted { (buffers[$0].first, $0) < (buffers[$1].first, $1) }
    for i in order {
      let b = buffers[i]
      // A block stays while its last reader is at or after this buffer's first step.
      live.removeAll { $0.last < b.first }
      live.sort { $0.start < $1.start }
      let size = (b.size + alignment - 1) / alignment * alignment
      var candidate = 0
      for block in live {
        if candidate + size <= block.start { break }
        candidate = max(candidate, block.end)
      }
      offsets[i] = candidate
      live.append((candidate, candidate + size, b.last))
      peak = max(peak, candidate + size)
    }
    return (offsets, peak)
  }
}
