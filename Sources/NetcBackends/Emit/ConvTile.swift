#if canImport(Glibc)
  import Glibc
#endif

/// The register tile of the direct conv kernel: how many output pixels one block of two
/// vectors of output channels computes at once, and how many a block of one vector (the
/// channel tail) computes. Accumulators, the block's weight vectors and a broadcast input
/// must fit in the vector registers (16 ymm with AVX2, 32 zmm with AVX-512) without spills.
struct ConvTile {
  /// Vectors of output channels per block.
  var vectors = 2
  /// Pixels per tile of a full block.
  var pixels: Int
  /// Pixels per tile of a one-vector block.
  var singleVectorPixels: Int

  /// The tile for `lanes`-wide vectors: 6 x 2 = 12 accumulators of 16 ymm at width 8.
  init(lanes: Int) {
    if lanes == 8 {
      pixels = 6
      singleVectorPixels = 12
    } else {
      let env = getenv("NETC_TILE").map { Int(String(cString: $0)) ?? 0 } ?? 0
      pixels = env > 0 ? env : 6
      singleVectorPixels = min(2 * pixels, 28)
      if getenv("NETC_ONEV") != nil { vectors = 1 }
    }
  }
}
