/// Every operation of the IR, with its mnemonic (the spec's canonical op name in lower
/// case, also the `op` of JSON output). Everything else netc knows about an op that is a
/// fact rather than an algorithm is in its `definition`.
public enum OpKind: String, CaseIterable, Hashable, Sendable {
  case input
  case conv, dwconv, pwconv, deconv
  case maxpool = "pool"
  case avgpool, gap, gmp
  case fc, linear, flatten, bn
  case layernorm = "ln"
  case rmsnorm
  case relu, relu6, sigmoid, tanh, softmax, gelu, silu, hardswish, hardsigmoid, identity, leakyrelu, dropout, droppath
  case layerscale
  case embed, posembed, typeembed, clstoken, tokens, take
  case attention = "attn"
  case upsample, pad, shuffle
  case add, concat, mul
  case router, moe, slice

  /// The canonical name: `conv`, `pool`, `fc`; default layer names are built from it.
  public var mnemonic: String { rawValue }

  /// What the op computes, in one line.
  public var summary: String { definition.summary }

  /// The op's groups.
  public var traits: OpTraits { definition.traits }

  /// True for windowed ops.
  public var isWindowed: Bool { traits.contains(.windowed) }
  /// True for convolutions.
  public var isConvolution: Bool { traits.contains(.convolution) }
  /// True for pools with a window.
  public var isPool: Bool { traits.contains(.pool) }
  /// True for ops with learnable parameters.
  public var hasWeights: Bool { !definition.parameters.isEmpty }
  /// True for shape-preserving element-wise ops.
  public var isElementwise: Bool { traits.contains(.elementwise) }
  /// True for the merges of structures (add, concat, mul, moe).
  public var isMerge: Bool { definition.arity == .many }
}
