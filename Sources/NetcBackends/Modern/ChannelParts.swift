/// Channel permutations and parts, over the last axis of any rank: `SHUFFLE-G` (ShuffleNet,
/// `torch.nn.ChannelShuffle`) and a split parallel's `slice` (part `index` of `count`).
enum ChannelParts {
  /// ChannelShuffle views the C channels as `[G][C/G]` and transposes: output channel
  /// `k * G + g` is input channel `g * (C/G) + k`. The source of each output channel.
  static func shuffleSource(channels c: Int, groups g: Int) -> [Int] {
    let per = c / g
    var source = [Int](repeating: 0, count: c)
    for k in 0..<per { for group in 0..<g { source[k * g + group] = group * per + k } }
    return source
  }

  static func shuffle<T>(_ x: [T], channels c: Int, groups g: Int) -> [T] {
    let source = shuffleSource(channels: c, groups: g)
    var y = x
    for base in stride(from: 0, to: x.count, by: c) { for j in 0..<c { y[base + j] = x[base + source[j]] } }
    return y
  }

  /// The inverse permutation carries the gradient back.
  static func unshuffle<T>(_ dy: [T], channels c: Int, groups g: Int) -> [T] {
    let source = shuffleSource(channels: c, groups: g)
    var dx = dy
    for base in stride(from: 0, to: dy.count, by: c) { for j in 0..<c { dx[base + source[j]] = dy[base + j] } }
    return dx
  }

  /// Channels `[index * C/count, (index + 1) * C/count)` of every position.
  static func slice<T>(_ x: [T], channels c: Int, part index: Int, of count: Int) -> [T] {
    let w = c / count
    var y: [T] = []
    y.reserveCapacity(x.count / count)
    for base in stride(from: 0, to: x.count, by: c) { y.append(contentsOf: x[(base + index * w)..<(base + index * w + w)]) }
    return y
  }

  /// The slice's gradient: dy in its part, zeros in the others.
  static func unslice<T: TensorScalar>(_ dy: [T], channels c: Int, part index: Int, of count: Int) -> [T] {
    let w = c / count
    var dx = [T](repeating: 0, count: dy.count * count)
    var q = 0
    for base in stride(from: 0, to: dx.count, by: c) {
      for j in 0..<w { dx[base + index * w + j] = dy[q * w + j] }
      q += 1
    }
    return dx
  }
}
