import NetcPasses

/// Places intermediate buffers in one arena so that buffers whose lifetimes do not overlap
/// share memory: `OffsetPlanner`, the planner `analyze --memory` reports.
struct BufferPlanner {
  /// One buffer: its size in elements and the steps during which it holds a live value.
  typealias Buffer = TensorLifetime

  /// Offsets are rounded up to this many elements (16 floats = one 64-byte cache line).
  static let alignment = 16

  /// Offsets of `buffers` in the arena, and the arena's size (the peak).
  static func plan(_ buffers: [Buffer]) -> (offsets: [Int], peak: Int) {
    // Nil only when the sizes' sum overflows 64 bits, which `EmitPlan.unsharedSize` sums
    // unchecked as well: `emit` has no memory check before planning yet.
    OffsetPlanner.plan(buffers, alignment: alignment)!
  }
}
