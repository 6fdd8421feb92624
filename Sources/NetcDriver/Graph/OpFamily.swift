import NetcIR

/// The colour families of a picture's boxes: what a reader scans for first.
enum OpFamily: String, CaseIterable {
  case input, convolution, linear, normalization, activation, pooling, attention, embedding, merge, reshape, routing, passThrough

  init(_ op: OpKind) {
    switch op {
    case .input: self = .input
    case .conv, .dwconv, .pwconv, .deconv: self = .convolution
    case .fc, .linear: self = .linear
    case .bn, .layernorm, .rmsnorm, .layerscale: self = .normalization
    case .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .silu, .hardswish, .hardsigmoid, .leakyrelu: self = .activation
    case .maxpool, .avgpool, .gap, .gmp: self = .pooling
    case .attention: self = .attention
    case .embed, .posembed, .typeembed, .clstoken, .tokens: self = .embedding
    case .add, .concat, .mul: self = .merge
    case .flatten, .take, .upsample, .pad, .shuffle, .slice: self = .reshape
    case .router, .moe: self = .routing
    case .identity, .dropout, .droppath: self = .passThrough
    }
  }

  /// The fill of a box of this family.
  var fill: String {
    switch self {
    case .input: "#e8e8e8"
    case .convolution: "#cfe2f7"
    case .linear: "#e0d4f5"
    case .normalization: "#d5efd8"
    case .activation: "#fbe8c8"
    case .pooling: "#cdeeea"
    case .attention: "#f8d3d0"
    case .embedding: "#eadccc"
    case .merge: "#dddddd"
    case .reshape: "#eeeeee"
    case .routing: "#f6d5ea"
    case .passThrough: "#f8f8f8"
    }
  }

  /// The family's name in the legend.
  var title: String {
    switch self {
    case .passThrough: "identity, dropout"
    case .input, .convolution, .linear, .normalization, .activation, .pooling, .attention, .embedding, .merge, .reshape, .routing:
      rawValue
    }
  }
}
