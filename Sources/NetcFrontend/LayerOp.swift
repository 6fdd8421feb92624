import NetcIR

/// A layer kind as the spec language spells it: its names, what its head takes, and its
/// options. `SEPCONV` exists only here: lowering expands it into `dwconv` + `pwconv`.
struct LayerOp: Sendable {
  /// Whether the head takes a kernel or a count.
  enum Part: Sendable, Equatable {
    case none, optional, required
  }

  /// The canonical name in lower case: default layer names and `defaults:` keys use it.
  let name: String
  /// Other accepted spellings, lower case.
  let aliases: [String]
  /// The IR op, or nil for a macro (`sepconv`).
  let op: OpKind?
  /// Whether a kernel extent follows the op name.
  let kernel: Part
  /// Whether `-N` follows, and what it counts (for messages and longhand keys).
  let count: Part
  /// The longhand key for the count: `filters`, `units`, `multiplier`.
  let countName: String
  /// The options the op accepts besides `name`.
  let options: [String]
  /// The `defaults:` families the op draws on, most general first.
  let families: [String]

  static let convOptions = ["stride", "pad", "dilation", "groups", "bias"]
  static let poolOptions = ["stride", "pad", "round"]

  /// Every layer kind of the language.
  static let all: [LayerOp] = [
    LayerOp(
      name: "conv", aliases: [], op: .conv, kernel: .required, count: .required,
      countName: "filters", options: convOptions, families: ["conv"]),
    LayerOp(
      name: "dwconv", aliases: ["depthwise"], op: .dwconv, kernel: .required,
      count: .optional, countName: "multiplier",
      options: ["stride", "pad", "dilation", "bias"], families: ["conv", "dwconv"]),
    LayerOp(
      name: "pwconv", aliases: ["pointwise"], op: .pwconv, kernel: .none, count: .required,
      countName: "filters", options: ["stride", "bias"], families: ["conv", "pwconv"]),
    LayerOp(
      name: "sepconv", aliases: [], op: nil, kernel: .required, count: .required,
      countName: "filters", options: ["stride", "pad", "dilation", "bias"],
      families: ["conv", "sepconv"]),
    // Max pooling also takes `dilation`, as PyTorch's MaxPool does; average pooling does not.
    LayerOp(
      name: "pool", aliases: ["maxpool"], op: .maxpool, kernel: .required, count: .none,
      countName: "", options: poolOptions + ["dilation"], families: ["pool"]),
    LayerOp(
      name: "avgpool", aliases: [], op: .avgpool, kernel: .required, count: .none,
      countName: "", options: poolOptions, families: ["pool", "avgpool"]),
    simple("gap", ["globalavgpool"], .gap),
    simple("gmp", ["globalmaxpool"], .gmp),
    LayerOp(
      name: "fc", aliases: ["dense", "linear"], op: .fc, kernel: .none, count: .required,
      countName: "units", options: ["bias"], families: ["fc"]),
    simple("flatten", [], .flatten),
    simple("bn", ["batchnorm"], .bn, options: ["eps"]),
    simple("relu", [], .relu),
    simple("relu6", [], .relu6),
    simple("sigmoid", [], .sigmoid),
    simple("tanh", [], .tanh),
    simple("softmax", [], .softmax),
    simple("gelu", [], .gelu),
    simple("identity", [], .identity),
    simple("leakyrelu", [], .leakyrelu, options: ["slope"]),
    simple("dropout", [], .dropout, options: ["p"]),
  ]

  private static func simple(
    _ name: String, _ aliases: [String], _ op: OpKind, options: [String] = []
  ) -> LayerOp {
    LayerOp(
      name: name, aliases: aliases, op: op, kernel: .none, count: .none, countName: "",
      options: options, families: [name])
  }

  /// Every spelling, lower case, mapped to its op.
  static let byName: [String: LayerOp] = {
    var table: [String: LayerOp] = [:]
    for op in all {
      table[op.name] = op
      for alias in op.aliases { table[alias] = op }
    }
    return table
  }()

  /// Every spelling in upper case, longest first, for matching the head of a shorthand.
  static let spellingsLongestFirst: [String] = byName.keys.sorted {
    $0.count != $1.count ? $0.count > $1.count : $0 < $1
  }

  /// The structure keys a layer item may have instead of an op.
  static let structures = ["residual", "parallel", "repeat", "block"]

  /// Every option key with the ops' own words, for longhand.
  var longhandKeys: [String] {
    var keys = options + ["name", "expect"]
    if kernel != .none { keys.append("kernel") }
    if count != .none { keys.append(countName) }
    return keys
  }
}
