import NetcDiagnostics
import NetcIR

/// One layer to IR nodes: defaults applied, values resolved in the scope, names claimed.
extension SpecLowering {
  /// Lowers one layer declaration reading node `input`; returns its output node.
  func lowerLayer(_ written: LayerDecl, from input: Int, scope: inout Scope) throws(DiagnosticError) -> Int {
    var decl = written
    for family in decl.op.families.reversed() {
      for entry in defaults[family] ?? [] where decl.op.options.contains(entry.key) && decl.option(entry.key) == nil {
        decl.options.append(entry)
      }
    }
    let explicit: (String, SourceRange)?
    if let n = decl.option("name") {
      guard n.items.count == 1 else {
        throw DiagnosticError([.error(.invalidValue, "a layer name is one word", at: n.keyRange)])
      }
      explicit = (try validName(n.items[0]), n.items[0].range)
    } else {
      explicit = nil
    }
    let name = try claimName(explicit: explicit, mnemonic: decl.op.name, range: decl.headRange, scope: &scope)
    var attrs = Attributes()
    attrs.bias = decl.op.defaultBias
    var memory: Int?
    attrs.kernel = try decl.kernel.map { (item) throws(DiagnosticError) in try positive(item, scope: scope, what: "a kernel extent") }
    if let count = decl.count { attrs.count = try positive(count, scope: scope, what: "the number of \(decl.op.countName)") }
    for entry in decl.options where entry.key != "name" {
      guard let key = OptionKey(rawValue: entry.key) else {
        // The parsers accept only the op's `optionKeys` and `name`: reaching this is a bug.
        throw DiagnosticError([
          .error(.unknownOption, "internal error: option `\(entry.key)` is not lowered (please report this)", at: entry.keyRange)
        ])
      }
      switch key {
      case .stride:
        attrs.stride = try entry.items.map { (item) throws(DiagnosticError) in try positive(item, scope: scope, what: "a stride") }
      case .dilation:
        attrs.dilation = try entry.items.map { (item) throws(DiagnosticError) in try positive(item, scope: scope, what: "a dilation") }
      case .groups:
        guard entry.items.count == 1 else {
          throw DiagnosticError([.error(.invalidValue, "`groups` takes one integer", at: entry.keyRange)])
        }
        attrs.groups = try positive(entry.items[0], scope: scope, what: "the number of groups")
      case .pad: attrs.padding = try padding(entry, scope: scope)
      case .bias: attrs.bias = try boolean(entry)
      case .round:
        guard entry.items.count == 1, let r = Rounding(rawValue: entry.items[0].text.lowercased()) else {
          throw DiagnosticError([
            .error(
              .invalidValue, "`round` is `floor` or `ceil`, found `\(entry.items.map(\.text).joined(separator: ","))`",
              at: entry.items[0].range)
          ])
        }
        attrs.rounding = r
      case .eps: attrs.epsilon = try real(entry, in: Double.leastNonzeroMagnitude...1)
      case .slope: attrs.slope = try real(entry, in: -1e6...1e6)
      case .p: attrs.dropProbability = try real(entry, in: 0...1)
      case .outpad:
        attrs.integers[.outputPadding] = try entry.items.map { (item) throws(DiagnosticError) in try nonNegative(item, scope: scope) }
      case .size:
        // `size 64x64` as a shape, or `size 64,64`.
        var extents: [ValueItem] = []
        for item in entry.items { extents += try ShapeSyntax.split(item.text, at: item.range) }
        attrs.integers[.size] = try extents.map { (item) throws(DiagnosticError) in
          try positive(item, scope: scope, what: "an output extent")
        }
      case .vocab: attrs.integers[.vocab] = [try single(entry, scope: scope, what: "the vocabulary")]
      case .kv: attrs.integers[.kvHeads] = [try single(entry, scope: scope, what: "the key/value heads")]
      case .dim: attrs.integers[.headDim] = [try single(entry, scope: scope, what: "a head's width")]
      case .approx: attrs.tanhApproximation = try word(entry, ["none", "tanh"]) == "tanh"
      case .kind: attrs.sinusoidal = try word(entry, ["learned", "sinusoidal"]) == "sinusoidal"
      case .mode: attrs.upsampleMode = UpsampleMode(rawValue: try word(entry, ["nearest", "bilinear"])) ?? .nearest
      case .index:
        guard entry.items.count == 1, let v = try intValue(entry.items[0], scope: scope, what: "a token index").expr.constant else {
          throw DiagnosticError([.error(.invalidValue, "`index` takes one integer (0 the first token, -1 the last)", at: entry.keyRange)])
        }
        attrs.index = v
      case .causal: attrs.causal = try boolean(entry)
      case .rope: attrs.rotary = try boolean(entry)
      case .theta: attrs.ropeTheta = try real(entry, in: 1...1e12)
      case .tie:
        let target = try reference(entry, scope: scope)
        guard nodes[target].op.definition.parameters.contains(where: { $0.kind == .weight }), nodes[target].op != .router else {
          throw DiagnosticError([
            .error(
              .invalidValue, "`\(nodes[target].name)` (\(nodes[target].op.mnemonic.uppercased())) has no weight to share",
              at: entry.items[0].range, notes: [.init("`tie` names an earlier EMBED, LINEAR or FC layer")])
          ])
        }
        attrs.tiedTo = target
      case .cross: memory = try reference(entry, scope: scope)
      }
    }
    for key in decl.op.requiredOptions where decl.option(key.rawValue) == nil {
      throw DiagnosticError([
        .error(
          .missingKey, "\(decl.op.name.uppercased()) needs `\(key.rawValue)`", at: decl.headRange,
          notes: key == .vocab ? [.init("as in `EMBED-768 vocab 50257`: the table has one row per token id")] : [])
      ])
    }
    try checkCombinations(decl, &attrs)
    let expect = try decl.expect.map { (item) throws(DiagnosticError) in
      try shapePattern(try ShapeSyntax.split(item.text, at: item.range), range: item.range, scope: scope)
    }
    let range = decl.range
    switch decl.op.op {
    case nil:
      // SEPCONV: a depthwise conv then a pointwise one; the bias, if any, goes on the
      // pointwise conv, as Keras's SeparableConv2D has it.
      var dw = attrs
      dw.count = nil
      dw.bias = false
      var pw = Attributes()
      pw.kernel = [.const(1, at: decl.headRange)]
      pw.count = attrs.count
      pw.bias = attrs.bias
      let first = nodes.count
      let dwID = try emit(name + ".dw", .dwconv, inputs: [input], dw, range: range, head: decl.headRange, depth: scope.depth + 1)
      let out = try emit(
        name + ".pw", .pwconv, inputs: [dwID], pw, range: range, head: decl.headRange, depth: scope.depth + 1, expect: expect,
        figures: decl.figures)
      groups.append(Group(name: name, kind: .sepconv, depth: scope.depth, nodes: first...out, range: range))
      return out
    case .pwconv?:
      attrs.kernel = [.const(1, at: decl.headRange)]
      return try emit(
        name, .pwconv, inputs: [input], attrs, range: range, head: decl.headRange, depth: scope.depth, expect: expect,
        figures: decl.figures)
    case let op?:
      let inputs = memory.map { [input, $0] } ?? [input]
      return try emit(
        name, op, inputs: inputs, attrs, range: range, head: decl.headRange, depth: scope.depth, expect: expect, figures: decl.figures)
    }
  }

  /// Options that only make sense together or not at all.
  private func checkCombinations(_ decl: LayerDecl, _ attrs: inout Attributes) throws(DiagnosticError) {
    let upper = decl.op.name.uppercased()
    func fail(_ message: String, at range: SourceRange, notes: [Diagnostic.Note] = []) -> DiagnosticError {
      DiagnosticError([.error(.invalidValue, message, at: range, notes: notes)])
    }
    if let theta = decl.option("theta"), !attrs.rotary {
      throw fail("`theta` is the base of rotary embeddings: add `rope`", at: theta.keyRange)
    }
    switch decl.op.op {
    case .posembed?:
      if attrs.sinusoidal, let c = decl.count {
        throw fail("a sinusoidal position embedding has no table: drop `-\(c.text)`", at: c.range)
      }
      if !attrs.sinusoidal && decl.count == nil {
        throw fail("POSEMBED needs the number of positions of its table, as in `POSEMBED-1024`, or `sinusoidal`", at: decl.headRange)
      }
    case .upsample?:
      if let c = decl.count, let size = decl.option("size") {
        throw fail("UPSAMPLE takes a scale or a `size`, not both", at: c.range, notes: [.init("the size", at: size.keyRange)])
      }
    case .pad?:
      if let c = decl.count, let given = decl.option("pad") {
        throw fail("PAD takes `-N` or `pad`, not both", at: c.range, notes: [.init("the `pad`", at: given.keyRange)])
      }
      if let count = attrs.count {
        attrs.padding = .explicit(begin: [count], end: [count])
        attrs.count = nil
      } else if decl.option("pad") == nil {
        throw fail("PAD needs the padding, as in `PAD-1` or `PAD pad 0:1,1:2`", at: decl.headRange)
      }
      if case .same = attrs.padding {
        throw fail("PAD takes amounts, not `same`", at: decl.option("pad")?.items[0].range ?? decl.headRange)
      }
    case .deconv?:
      if case .same = attrs.padding, let given = decl.option("pad") {
        throw fail("\(upper) takes explicit padding, not `same`", at: given.items[0].range)
      }
    case .conv?, .dwconv?, .pwconv?, .maxpool?, .avgpool?, .gap?, .gmp?, .fc?, .linear?, .flatten?, .bn?, .layernorm?, .rmsnorm?,
      .relu?, .relu6?, .sigmoid?, .tanh?, .softmax?, .gelu?, .silu?, .hardswish?, .hardsigmoid?, .identity?, .leakyrelu?, .dropout?,
      .droppath?, .layerscale?, .embed?, .typeembed?, .clstoken?, .tokens?, .take?, .attention?, .shuffle?, .input?, .add?, .concat?,
      .mul?, .router?, .moe?, .slice?, nil:
      break
    }
  }

  /// The node an option names: a layer of this scope (`embed1`), or a full dotted path.
  private func reference(_ entry: OptionEntry, scope: Scope) throws(DiagnosticError) -> Int {
    guard entry.items.count == 1 else {
      throw DiagnosticError([.error(.invalidValue, "`\(entry.key)` names one layer", at: entry.keyRange)])
    }
    let item = entry.items[0]
    for full in [scope.prefix + item.text, item.text] {
      if let node = nodes.last(where: { $0.name == full }) { return node.id }
    }
    var notes: [Diagnostic.Note] = []
    if let guess = closestMatch(to: item.text, in: nodes.dropFirst().map(\.name)) {
      notes.append(.init("did you mean `\(guess)`?", at: item.range))
    }
    notes.append(.init("`\(entry.key)` names an earlier layer, by its name in this scope or its full dotted path"))
    throw DiagnosticError([.error(.undefinedVar, "no earlier layer is named `\(item.text)`", at: item.range, notes: notes)])
  }

  /// One integer at least 1.
  private func single(_ entry: OptionEntry, scope: Scope, what: String) throws(DiagnosticError) -> SymValue {
    guard entry.items.count == 1 else {
      throw DiagnosticError([.error(.invalidValue, "`\(entry.key)` takes one integer", at: entry.keyRange)])
    }
    return try positive(entry.items[0], scope: scope, what: what)
  }

  /// One of `words`.
  private func word(_ entry: OptionEntry, _ words: [String]) throws(DiagnosticError) -> String {
    let text = entry.items.map(\.text).joined(separator: ",").lowercased()
    guard entry.items.count == 1, words.contains(text) else {
      throw DiagnosticError([
        .error(
          .invalidValue, "`\(entry.key)` is \(words.map { "`\($0)`" }.joined(separator: " or ")), found `\(text)`",
          at: entry.items.first?.range ?? entry.keyRange)
      ])
    }
    return text
  }

  /// Appends a node, enforcing the bound on the graph's size.
  @discardableResult
  func emit(
    _ name: String, _ op: OpKind, inputs: [Int], _ attributes: Attributes, range: SourceRange,
    head: SourceRange? = nil, depth: Int, expect: ShapePattern? = nil, figures: [FigureExpectation] = []
  ) throws(DiagnosticError) -> Int {
    guard nodes.count < Self.maxNodes else {
      throw DiagnosticError([
        .error(
          .expansionLimit, "the spec expands to more than \(Self.maxNodes) layers", at: range,
          notes: [.init("`repeat` counts and blocks multiply; this is where the limit was reached")])
      ])
    }
    let id = nodes.count
    nodes.append(
      Node(
        id: id, name: name, op: op, inputs: inputs, attributes: attributes, range: range,
        headRange: head, depth: depth, expect: expect))
    nodes[id].expectedFigures = figures
    return id
  }

  /// Takes a name in the scope: the explicit one, or the mnemonic and its count (`conv3`,
  /// `relu6_1`: `DefaultName`).
  func claimName(explicit: (String, SourceRange)?, mnemonic: String, range: SourceRange, scope: inout Scope) throws(DiagnosticError)
    -> String
  {
    let count = (scope.counters[mnemonic] ?? 0) + 1
    scope.counters[mnemonic] = count
    let local = explicit?.0 ?? DefaultName.make(mnemonic, count: count)
    let at = explicit?.1 ?? range
    if let previous = scope.names[local] {
      throw DiagnosticError([
        .error(
          .duplicateName, "the name `\(local)` is taken in this scope", at: at,
          notes: [
            .init(previous == at ? "the layer with this name is a default name: rename one of them" : "first used here", at: previous)
          ])
      ])
    }
    scope.names[local] = at
    return scope.prefix + local
  }

  /// A layer name: letters, digits, `_` and `-`; no dots, which separate scopes.
  func validName(_ item: ValueItem) throws(DiagnosticError) -> String {
    let ok =
      !item.text.isEmpty && item.text.count <= 200
      && item.text.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || ($0.properties.isAlphabetic || $0.properties.numericType != nil) }
    guard ok else {
      throw DiagnosticError([
        .error(
          .invalidValue, "a layer name is a word of letters, digits, `_` and `-`, found `\(item.text.prefix(40))`", at: item.range,
          notes: item.text.contains(".") ? [.init("dots are reserved for the paths of names inside structures")] : [])
      ])
    }
    return item.text
  }

  /// How `$name` resolves in `scope`: a block parameter first, then a var.
  func resolver(_ scope: Scope) -> IntegerExpression.Resolver {
    { [self] (name: String, range: SourceRange) throws(DiagnosticError) -> SymExpr in
      if let bound = scope.bindings[name] { return bound }
      if vars[name] != nil {
        usedVars.insert(name)
        return .variable(name)
      }
      var notes: [Diagnostic.Note] = []
      if let guess = closestMatch(to: name, in: Array(scope.bindings.keys) + Array(vars.keys)) {
        notes.append(.init("did you mean `\(guess)`?", at: range))
      }
      notes.append(.init("declare it under `vars:` (`vars: { \(name): 1..9 }`) or as a block parameter"))
      throw DiagnosticError([.error(.undefinedVar, "unknown name `\(name)`", at: range, notes: notes)])
    }
  }

  /// An integer value: `3`, `$k` or `${2*c + 1}`.
  func intValue(_ item: ValueItem, scope: Scope, what: String) throws(DiagnosticError) -> SymValue {
    if let v = Self.plainInteger(item.text) { return .const(v, at: item.range) }
    let text = item.text
    if text.hasPrefix("${") {
      guard text.hasSuffix("}"), text.count >= 3 else {
        throw DiagnosticError([.error(.shorthandSyntax, "unclosed `${`", at: item.range)])
      }
      let inner = String(text.dropFirst(2).dropLast())
      return SymValue(
        try IntegerExpression.parse(inner, at: item.range.slice(offset: 2, length: inner.unicodeScalars.count), resolve: resolver(scope)),
        at: item.range)
    }
    if text.hasPrefix("$") {
      return SymValue(try IntegerExpression.parse(text, at: item.range, resolve: resolver(scope)), at: item.range)
    }
    guard text.first.map({ $0.isNumber || $0 == "-" || $0 == "+" }) == true else {
      throw DiagnosticError([.error(.invalidValue, "expected an integer for \(what), found `\(text.prefix(40))`", at: item.range)])
    }
    return .const(try IntegerExpression.integer(text, at: item.range), at: item.range)
  }

  /// A short decimal integer read straight from its bytes: the common case, kept off the
  /// general path (Character properties, substrings) that dominated lowering large specs.
  static func plainInteger(_ text: String) -> Int? {
    var value = 0
    var digits = 0
    var negative = false
    for byte in text.utf8 {
      if byte == UInt8(ascii: "-") && digits == 0 && !negative {
        negative = true
        continue
      }
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 else { return nil }
      value = value * 10 + Int(byte - UInt8(ascii: "0"))
      digits += 1
    }
    guard digits > 0 else { return nil }
    return negative ? -value : value
  }

  /// An integer that must be at least 1 when it is a constant.
  private func positive(_ item: ValueItem, scope: Scope, what: String) throws(DiagnosticError) -> SymValue {
    let v = try intValue(item, scope: scope, what: what)
    if let c = v.expr.constant, c < 1 {
      throw DiagnosticError([.error(.invalidValue, "\(what) must be at least 1, got \(c)", at: item.range)])
    }
    return v
  }

  private func padding(_ entry: OptionEntry, scope: Scope) throws(DiagnosticError) -> Padding {
    if entry.items.count == 1 {
      switch entry.items[0].text.lowercased() {
      case "same": return .same
      case "valid": return .explicit(begin: [.const(0, at: entry.items[0].range)], end: [.const(0, at: entry.items[0].range)])
      default: break
      }
    }
    var begin: [SymValue] = []
    var end: [SymValue] = []
    for item in entry.items {
      if !item.text.utf8.contains(UInt8(ascii: ":")) {
        let v = try nonNegative(item, scope: scope)
        begin.append(v)
        end.append(v)
        continue
      }
      let halves = item.text.split(separator: ":", omittingEmptySubsequences: false)
      guard halves.count <= 2 else {
        throw DiagnosticError([
          .error(.invalidValue, "padding is `N`, `begin:end`, `same` or `valid`, found `\(item.text)`", at: item.range)
        ])
      }
      let b = try nonNegative(ValueItem(text: String(halves[0]), range: item.range), scope: scope)
      let e = halves.count == 2 ? try nonNegative(ValueItem(text: String(halves[1]), range: item.range), scope: scope) : b
      begin.append(b)
      end.append(e)
    }
    return .explicit(begin: begin, end: end)
  }

  private func nonNegative(_ item: ValueItem, scope: Scope) throws(DiagnosticError) -> SymValue {
    if let v = Self.plainInteger(item.text), v >= 0 { return .const(v, at: item.range) }
    guard ["same", "valid"].contains(item.text.lowercased()) == false else {
      throw DiagnosticError([
        .error(.invalidValue, "`\(item.text)` is padding for every axis; it cannot be mixed with numbers", at: item.range)
      ])
    }
    let v = try intValue(item, scope: scope, what: "padding")
    if let c = v.expr.constant, c < 0 {
      throw DiagnosticError([.error(.invalidValue, "padding must be at least 0, got \(c)", at: item.range)])
    }
    return v
  }

  private func boolean(_ entry: OptionEntry) throws(DiagnosticError) -> Bool {
    switch entry.items.count == 1 ? entry.items[0].text.lowercased() : "" {
    case "true", "yes", "on": return true
    case "false", "no", "off": return false
    default:
      throw DiagnosticError([
        .error(
          .invalidValue, "`\(entry.key)` is `true` or `false`, found `\(entry.items.map(\.text).joined(separator: ","))`",
          at: entry.items.first?.range ?? entry.keyRange)
      ])
    }
  }

  private func real(_ entry: OptionEntry, in bounds: ClosedRange<Double>) throws(DiagnosticError) -> Double {
    guard entry.items.count == 1, let v = Double(entry.items[0].text), v.isFinite, bounds.contains(v) else {
      throw DiagnosticError([
        .error(
          .invalidValue,
          "`\(entry.key)` takes a number from \(bounds.lowerBound == Double.leastNonzeroMagnitude ? "above 0" : String(bounds.lowerBound)) to \(bounds.upperBound), found `\(entry.items.map(\.text).joined(separator: ","))`",
          at: entry.items.first?.range ?? entry.keyRange)
      ])
    }
    return v
  }

  /// A shape assertion: extents and `_`.
  func shapePattern(_ items: [ValueItem], range: SourceRange, scope: Scope) throws(DiagnosticError) -> ShapePattern {
    var extents: [ShapePattern.Extent] = []
    for item in items {
      if item.text == "_" {
        extents.append(.any)
      } else {
        let v = try intValue(item, scope: scope, what: "an extent")
        if let c = v.expr.constant, c < 1 {
          throw DiagnosticError([.error(.invalidValue, "an extent must be at least 1, got \(c)", at: item.range)])
        }
        extents.append(.value(v))
      }
    }
    return ShapePattern(extents: extents, range: range)
  }
}
