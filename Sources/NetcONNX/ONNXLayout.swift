import NetcIR

/// Where an exported tensor keeps its channels. netc's tensors are channels last without a
/// batch (`HxWxC`, `TxC`); in ONNX a conv or pool reads `[N, C, H, W]`, and a transformer's
/// ops read `[N, T, C]`. Each tensor is written in the layout its producer wants, and a
/// consumer that wants the other one reads it through one Transpose (made once per tensor).
/// A vector (`[N, F]`) is the same in both.
enum ONNXLayout: Hashable {
  /// `[N, C, spatial...]`: conv, pool, BN, resize, pad.
  case channelsFirst
  /// `[N, spatial..., C]`: netc's own order with a batch in front; sequences.
  case channelsLast

  /// The layout `op` reads its first input in; nil when it works in either.
  static func wanted(by op: OpKind) -> ONNXLayout? {
    switch op {
    case .conv, .dwconv, .pwconv, .deconv, .maxpool, .avgpool, .gap, .gmp, .flatten, .bn, .upsample, .pad:
      .channelsFirst
    // A mixture routes over the channels: its router and routed sum work channels last.
    case .embed, .posembed, .typeembed, .clstoken, .take, .attention, .router, .moe:
      .channelsLast
    case .input, .fc, .linear, .layernorm, .rmsnorm, .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .silu, .hardswish,
      .hardsigmoid, .identity, .leakyrelu, .dropout, .droppath, .layerscale, .tokens, .shuffle, .add, .concat, .mul, .slice:
      nil
    }
  }

  /// The layout `op` writes its output in, given the one it read.
  static func written(by op: OpKind, reading input: ONNXLayout) -> ONNXLayout {
    op == .tokens ? .channelsLast : wanted(by: op) ?? input
  }

  /// The ONNX axis of netc axis `axis` of a rank-`rank` tensor (the batch is axis 0).
  func axis(_ axis: Int, rank: Int) -> Int {
    if rank <= 1 || self == .channelsLast { return axis + 1 }
    return axis == rank - 1 ? 1 : axis + 2
  }

  /// The channel axis.
  func channelAxis(rank: Int) -> Int { axis(rank - 1, rank: rank) }

  /// ONNX's extents in this layout, from netc's (without the batch).
  func order<E>(_ netc: [E]) -> [E] {
    guard netc.count > 1, self == .channelsFirst else { return netc }
    return [netc[netc.count - 1]] + netc.dropLast()
  }

  /// The Transpose perm that turns a rank-`rank` tensor (netc's rank) from this layout into
  /// `other`.
  func perm(to other: ONNXLayout, rank: Int) -> [Int] {
    if self == other || rank <= 1 { return Array(0...rank) }
    return self == .channelsFirst ? [0] + Array(2...rank) + [1] : [0, rank] + Array(1..<rank)
  }
}
