import NetcIR
import NetcPasses

/// Where a value's channels sit in the generated PyTorch code. netc's tensors are channels
/// last without a batch (`HxWxC`, `LxC`); PyTorch's convolutions want `[N, C, H, W]` and
/// its sequence layers `[N, L, C]`, so each value keeps the layout its producer gives it
/// and a consumer that needs the other one moves the channel axis (`movedim`).
enum TorchLayout: Equatable {
  /// `[N, C, spatial...]`, as convolutions, pools and batch norm take it.
  case channelsFirst
  /// `[N, spatial..., C]`, as linear layers, norms over channels and attention take it.
  case channelsLast
  /// A vector `[N, F]` or token ids `[N, T]`: the same either way.
  case neutral
}

/// What a layer needs of its input's layout.
enum LayoutNeed {
  case channelsFirst, channelsLast, either
}

extension LayoutNeed {
  /// The need of `op` (exhaustive: a new op must say where its channels go).
  init(_ op: OpKind) {
    switch op {
    case .conv, .dwconv, .pwconv, .deconv, .maxpool, .avgpool, .bn, .upsample, .pad, .flatten:
      self = .channelsFirst
    case .linear, .layernorm, .rmsnorm, .attention, .posembed, .typeembed, .clstoken, .take, .embed, .router:
      self = .channelsLast
    case .input, .gap, .gmp, .fc, .tokens, .shuffle, .slice, .softmax, .layerscale, .relu, .relu6, .sigmoid, .tanh, .gelu,
      .silu, .hardswish, .hardsigmoid, .identity, .leakyrelu, .dropout, .droppath, .add, .concat, .mul, .moe:
      self = .either
    }
  }
}

/// Every node's output layout in the generated code.
func torchLayouts(_ graph: Graph, _ shapes: Shapes) -> [TorchLayout] {
  var layouts = [TorchLayout](repeating: .neutral, count: graph.nodes.count)
  for node in graph.nodes {
    let rank = shapes[node.id].count
    if rank <= 1 || shapes.nodes[node.id].tokens {
      layouts[node.id] = .neutral
      continue
    }
    switch (node.op, LayoutNeed(node.op)) {
    case (.input, _):
      // An image is NCHW as PyTorch writes it; a sequence `LxC` follows its first layer
      // that cares (a 1-D conv wants `[N, C, L]`, a transformer `[N, L, C]`). Another input
      // of `inputs:` starts its chain where its node is.
      let first = graph.nodes[(node.id + 1)...].lazy.map { LayoutNeed($0.op) }.first { $0 != .either }
      layouts[node.id] = rank == 2 && first != .channelsFirst ? .channelsLast : .channelsFirst
    case (.tokens, _), (.embed, _):
      layouts[node.id] = .channelsLast
    case (_, .channelsFirst):
      layouts[node.id] = .channelsFirst
    case (_, .channelsLast):
      layouts[node.id] = .channelsLast
    case (_, .either):
      layouts[node.id] = node.inputs.lazy.map { layouts[$0] }.first { $0 != .neutral } ?? .channelsLast
    }
  }
  return layouts
}

/// `value` (a Python expression in layout `from`) in layout `to`.
func converted(_ value: String, from: TorchLayout, to: TorchLayout) -> String {
  switch (from, to) {
  case (.channelsFirst, .channelsLast): "\(value).movedim(1, -1)"
  case (.channelsLast, .channelsFirst): "\(value).movedim(-1, 1)"
  case (.channelsFirst, _), (.channelsLast, _), (.neutral, _): value
  }
}
