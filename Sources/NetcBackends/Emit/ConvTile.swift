/// The register tile of the direct conv kernel: how many output pixels one block of
/// `vectors` vectors of output channels computes at once, and how many a block of one vector
/// (the channel tail) computes. Accumulators, the block's weight vectors and a broadcast
/// input must fit in the vector registers (16 ymm with AVX2, 32 zmm with AVX-512) without
/// spills.
struct ConvTile {
  /// Vectors of output channels per block.
  var vectors = 2
  /// Pixels per tile of a full block.
  var pixels: Int
  /// Pixels per tile of a one-vector block.
  var singleVectorPixels: Int
  /// Whether tiles are balanced over a run of pixels (see `pixels(run:vectors:)`).
  var balanced: Bool
  /// Lanes per vector.
  var lanes: Int
  /// Bytes of a block's weights above which input channels are chunked, and the most bytes
  /// of weights a chunk may hold (`inputChunk`).
  var chunkThreshold = 256 * 1024
  var chunkBytes = 24 * 1024

  /// Width 8: 6 pixels x 2 SIMD8 = 12 accumulators of the 16 ymm registers. Width 16:
  /// 8 pixels x 2 SIMD16 = 16 accumulators of the 32 zmm registers (16 pixels for a
  /// one-vector block); 8 was among the fastest tiles on every 3x3 conv of ResNet-18, and
  /// blocks of two vectors beat one (measurements: docs/emit.md).
  init(lanes: Int) {
    self.lanes = lanes
    if lanes == 8 {
      pixels = 6
      singleVectorPixels = 12
      balanced = false
    } else {
      pixels = 8
      singleVectorPixels = 16
      balanced = true
    }
  }

  /// Pixels per tile over a run of `run` pixels for a block of `vectors` vectors. Balanced,
  /// the run is cut into as many tiles as the longest tile needs, all as long as possible
  /// and equal but the last: 49 pixels (a 7x7 map) in tiles of up to 12 are 5 tiles of 10
  /// (the last 9) rather than 4 of 12 and a lone pixel, whose two FMAs per weight load make
  /// it as slow as a full tile. Width 8 keeps its fixed tile (and its output of before).
  func pixels(run: Int, vectors: Int) -> Int {
    let most = vectors == self.vectors ? pixels : singleVectorPixels
    guard balanced, run > most else { return most }
    let tiles = (run + most - 1) / most
    return (run + tiles - 1) / tiles
  }
}

extension ConvTile {
  /// Input channels per chunk when a block's weights (`taps x inputs x` two vectors) pass
  /// `chunkThreshold`, nil otherwise: the largest divisor of `inputs` whose chunk of weights
  /// fits in `chunkBytes`, half of a 48 KB L1 data cache, leaving the rest to the input
  /// rows. Unchunked, each border region made its own pass over the weights; larger chunks
  /// were no better (measurements: docs/emit.md).
  func inputChunk(taps: Int, inputs: Int) -> Int? {
    let blockFloats = vectors * lanes
    guard taps * inputs * blockFloats * 4 > chunkThreshold else { return nil }
    let most = chunkBytes / (taps * blockFloats * 4)
    guard most >= 1 else { return nil }
    let chunk = stride(from: min(most, inputs), through: 1, by: -1).first { inputs % $0 == 0 }!
    return chunk < inputs ? chunk : nil
  }
}
