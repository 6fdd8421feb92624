/// A layer kind as the spec language spells it: its names, what its head takes, and its
/// options. `SEPCONV` is a spelling without an op: lowering expands it into `dwconv` +
/// `pwconv`.
public struct LayerSpelling: Sendable {
  /// Whether the head takes a kernel or a count.
  public enum Part: Sendable, Equatable {
    case none, optional, required
  }

  /// The canonical name in lower case: default layer names and `defaults:` keys use it.
  public let name: String
  /// Other accepted spellings, lower case.
  public let aliases: [String]
  /// The IR op, or nil for a macro (`sepconv`).
  public let op: OpKind?
  /// Whether a kernel extent follows the op name.
  public let kernel: Part
  /// Whether `-N` follows.
  public let count: Part
  /// The longhand key for the count: `filters`, `units`, `multiplier`.
  public let countName: String
  /// What the count is, in words: `filters`, `units`, `depth multiplier`.
  public let countNoun: String
  /// The options the op accepts besides `name`.
  public let optionKeys: [OptionKey]
  /// What the count is, for the schema: `Number of output channels.`
  public let countSummary: String
  /// The `defaults:` families the op draws on, most general first.
  public let families: [String]
  /// The docs' and the schema's description of the layer kind.
  public let meaning: String
  /// Options the layer cannot do without (`vocab` of an embedding).
  public let requiredOptions: [OptionKey]
  /// Whether `bias` is on unless the spec says otherwise.
  public let defaultBias: Bool

  /// Creates a spelling.
  public init(
    name: String, aliases: [String] = [], op: OpKind?, kernel: Part = .none, count: Part = .none,
    countName: String = "", countNoun: String? = nil, countSummary: String = "Number of output channels.", options: [OptionKey] = [],
    families: [String]? = nil, requiredOptions: [OptionKey] = [], defaultBias: Bool = true,
    meaning: String
  ) {
    self.name = name
    self.aliases = aliases
    self.op = op
    self.kernel = kernel
    self.count = count
    self.countName = countName
    self.countNoun = countNoun ?? countName
    self.countSummary = countSummary
    self.optionKeys = options
    self.families = families ?? [name]
    self.meaning = meaning
    self.requiredOptions = requiredOptions
    self.defaultBias = defaultBias
  }

  /// The option keys as the spec writes them.
  public var options: [String] { optionKeys.map(\.rawValue) }

  /// The depthwise-separable macro: a spelling of its own, with no op.
  public static let sepconv = LayerSpelling(
    name: "sepconv", op: nil, kernel: .required, count: .required, countName: "filters",
    options: [.stride, .pad, .dilation, .bias], families: ["conv", "sepconv"],
    meaning: "depthwise-separable: expands to `DWCONV` then `PWCONV`, named `NAME.dw`, `NAME.pw`")

  /// Every layer kind of the language, in the order of the docs' table: each op's own
  /// spelling, and the macro after the convolutions it expands to.
  public static let all: [LayerSpelling] = {
    var out: [LayerSpelling] = []
    for op in OpKind.allCases {
      guard let s = op.definition.spelling else { continue }
      out.append(s)
      if op == .pwconv { out.append(sepconv) }
    }
    return out
  }()
}
