import NetcDiagnostics
import NetcIR

/// Lowers a spec's YAML tree to an IR graph: top-level keys, defaults, vars, blocks, and
/// the layer list with its structures. Errors are collected, so one run reports many.
final class SpecLowering {
  /// Where names are counted and looked up: one list of layers of one structure.
  struct Scope {
    /// The dotted prefix of names in this scope: "" at top level, "res1.body.".
    var prefix: String
    /// How many dotted levels deep.
    var depth: Int
    /// Block parameters visible here.
    var bindings: [String: SymExpr]
    /// The blocks being instantiated, outermost first, to catch recursion.
    var blockChain: [String]
    /// How many layers of each op (and structure) are in this scope so far.
    var counters: [String: Int] = [:]
    /// Names taken in this scope and where.
    var names: [String: SourceRange] = [:]

    /// A child scope for a structure named `name`.
    func child(_ name: String, bindings: [String: SymExpr]? = nil, block: String? = nil) -> Scope {
      Scope(
        prefix: prefix + name + ".", depth: depth + 1, bindings: bindings ?? self.bindings,
        blockChain: blockChain + (block.map { [$0] } ?? []))
    }
  }

  /// A block definition from `blocks:`.
  struct BlockDef {
    var name: String
    var params: [(name: String, defaultValue: YAMLNode?, range: SourceRange)]
    var layers: [YAMLNode]
    var range: SourceRange
  }

  static let topLevelKeys = [
    "netspec", "name", "input", "inputs", "layers", "defaults", "vars", "where", "output", "budget", "expect",
    "blocks", "weights", "description",
  ]
  /// The most nodes one spec may lower to; `repeat` and blocks multiply, so this bounds memory.
  static let maxNodes = 1_000_000
  /// The deepest nesting of structures.
  static let maxDepth = 100

  let file: String
  var diagnostics: [Diagnostic] = []
  var nodes: [Node] = []
  var groups: [Group] = []
  /// Whether the input is token ids (`input: 1024 tokens`).
  var tokenInput = false
  /// The inputs named under `inputs:`, each with its node once a `from:` reads it (-1 before).
  var namedInputs: [GraphInput] = []
  /// The storage type of byte budgets.
  var budgetPrecision = StorageType.fp32
  /// The settings of memory budgets: a `training` budget's optimizer and mixed precision,
  /// and the batch.
  var budgetOptimizer = Optimizer.adamw
  var budgetMixedPrecision: StorageType?
  var budgetBatch: SymValue?
  var blocks: [String: BlockDef] = [:]
  var vars: [String: VarDecl] = [:]
  var usedVars: Set<String> = []
  var usedBlocks: Set<String> = []
  var defaults: [String: [OptionEntry]] = [:]
  var shorthandCache: [String: (LayerDecl, SourceRange)] = [:]

  /// The spec's text, for messages about how a value was written (its indentation).
  var source: SourceFile?

  /// Values of the vars that repeat counts read, given before lowering.
  let repeatBindings: [String: Int]
  /// The vars that repeat counts read (bound or not).
  var repeatVars: Set<String> = []

  init(file: String, repeatBindings: [String: Int] = [:]) {
    self.file = file
    self.repeatBindings = repeatBindings
  }

  /// The whole spec.
  func lowerSpec(_ root: YAMLNode?, source: SourceFile) throws(DiagnosticError) -> Spec {
    self.source = source
    let top = SourceRange(file: file, start: SourceLocation(line: 1, column: 1), length: 1)
    guard let root else {
      throw DiagnosticError([
        .error(.missingKey, "the spec is empty: expected a mapping with `name`, `input` and `layers`", at: top)
      ])
    }
    guard let pairs = root.mapping else {
      throw DiagnosticError([
        .error(.wrongType, "expected a mapping with `name`, `input` and `layers`, found \(root.kindDescription)", at: root.range)
      ])
    }
    var entries: [String: YAMLPair] = [:]
    var misspelled: Set<String> = []
    for pair in pairs {
      guard let key = pair.key.scalar else {
        record(.error(.wrongType, "top-level keys must be words", at: pair.key.range))
        continue
      }
      guard Self.topLevelKeys.contains(key) else {
        var notes: [Diagnostic.Note] = []
        if let guess = closestMatch(to: key, in: Self.topLevelKeys) {
          misspelled.insert(guess)
          notes.append(.init("did you mean `\(guess)`?", at: pair.key.range))
        }
        notes.append(.init("top-level keys are \(Self.topLevelKeys.map { "`\($0)`" }.joined(separator: ", "))"))
        record(.error(.unknownKey, "unknown top-level key `\(key)`", at: pair.key.range, notes: notes))
        continue
      }
      entries[key] = pair
    }

    if let version = entries["netspec"] {
      if version.value.scalar?.trimmingSpaces != "1" {
        record(
          .error(
            .unsupportedVersion, "this netc reads netspec version 1, not `\(version.value.scalar ?? version.value.kindDescription)`",
            at: version.value.range))
      }
    }
    var name = "unnamed"
    if let n = entries["name"] {
      if let text = n.value.scalar, !text.trimmingSpaces.isEmpty {
        name = text
      } else {
        record(.error(.wrongType, "`name` must be a non-empty string", at: n.value.range))
      }
    } else {
      if !misspelled.contains("name") {
        record(.error(.missingKey, "missing `name`: every spec needs one, such as `name: small-cnn`", at: root.range))
      }
    }
    var description: String?
    if let d = entries["description"] {
      if let text = d.value.scalar {
        description = text
      } else {
        record(.error(.wrongType, "`description` must be a string", at: d.value.range))
      }
    }

    attempt { () throws(DiagnosticError) in try lowerVars(entries["vars"]?.value) }
    attempt { () throws(DiagnosticError) in try lowerBlocks(entries["blocks"]?.value) }
    attempt { () throws(DiagnosticError) in try lowerDefaults(entries["defaults"]?.value) }
    let topScope = Scope(prefix: "", depth: 0, bindings: [:], blockChain: [])

    var inputShape: [SymValue] = []
    var scope = topScope
    if let input = entries["input"], let named = entries["inputs"] {
      record(
        .error(
          .duplicateKey, "the spec has both `input` and `inputs`", at: named.key.range,
          notes: [.init("`input` is the shape of a network with one input; `inputs` names several: keep one of them", at: input.key.range)])
      )
    } else if let input = entries["input"] {
      attempt { () throws(DiagnosticError) in (inputShape, tokenInput) = try self.inputShape(input.value, scope: topScope) }
    } else if let named = entries["inputs"] {
      attempt { () throws(DiagnosticError) in try lowerInputs(named.value, scope: &scope) }
      if let first = namedInputs.first { (inputShape, tokenInput) = (first.shape, first.tokens) }
    } else {
      if !misspelled.contains("input") && !misspelled.contains("inputs") {
        record(.error(.missingKey, "missing `input`: the input shape, such as `input: 32x32x3`", at: root.range))
      }
    }

    let inputRange = entries["input"]?.value.range ?? namedInputs.first?.range ?? root.range
    nodes.append(Node(id: 0, name: namedInputs.first?.name ?? "input", op: .input, inputs: [], range: inputRange, depth: 0))
    if let layers = entries["layers"] {
      if let items = layers.value.sequence, !items.isEmpty {
        try checkExpansion(items)
        try lowerItems(items, from: 0, scope: &scope)
        if diagnostics.allSatisfy({ $0.severity != .error }) { checkInputsRead() }
      } else {
        record(.error(.wrongType, "`layers` must be a non-empty list of layers", at: layers.value.range))
      }
    } else {
      if !misspelled.contains("layers") {
        record(.error(.missingKey, "missing `layers`: the list of layers, such as `layers: [CONV3-10 pad 1, RELU]`", at: root.range))
      }
    }

    var outputExpect: ShapePattern?
    if let output = entries["output"] {
      attempt { () throws(DiagnosticError) in
        outputExpect = try shapePattern(
          try ShapeSyntax.items(of: output.value, what: "`output`"), range: output.value.range, scope: topScope)
      }
    }
    var expectedTotals: [FigureExpectation] = []
    if let expect = entries["expect"] {
      attempt { () throws(DiagnosticError) in
        guard case .mapping(let pairs) = expect.value.kind else {
          throw DiagnosticError([
            .error(
              .wrongType, "the top-level `expect` is a mapping of totals such as `{ params: 3910, output: 10 }`", at: expect.value.range)
          ])
        }
        let (shape, figures) = try FigureExpectationSyntax.parse(pairs, shapeKey: "output")
        expectedTotals = figures
        if let shape {
          guard outputExpect == nil else {
            throw DiagnosticError([.error(.duplicateKey, "the output's shape is given twice, in `output` and in `expect`", at: shape.range)]
            )
          }
          outputExpect = try shapePattern(try ShapeSyntax.items(of: shape, what: "`output`"), range: shape.range, scope: topScope)
        }
      }
    }
    var conditions: [Condition] = []
    if let whereEntry = entries["where"] {
      let list = whereEntry.value.sequence ?? [whereEntry.value]
      for item in list {
        attempt { () throws(DiagnosticError) in
          guard let text = item.scalar else {
            throw DiagnosticError([.error(.wrongType, "a `where` condition is a string such as \"k % 2 == 1\"", at: item.range)])
          }
          conditions.append(try IntegerExpression.parseCondition(text, at: contentRange(of: item), resolve: resolver(topScope)))
        }
      }
    }
    var budget: [BudgetLimit] = []
    if let b = entries["budget"] {
      attempt { () throws(DiagnosticError) in budget = try lowerBudget(b.value) }
    }

    let errors = diagnostics.filter { $0.severity == .error }
    if !errors.isEmpty { throw DiagnosticError(diagnostics) }
    let declared = entries["vars"]?.value.mapping?.compactMap { $0.key.scalar } ?? []
    var graph = Graph(
      name: name, description: description, inputShape: inputShape, nodes: nodes,
      groups: groups.sorted { ($0.nodes.lowerBound, $0.depth) < ($1.nodes.lowerBound, $1.depth) },
      vars: declared.compactMap { vars[$0] }, conditions: conditions,
      outputExpect: outputExpect, budget: budget, file: file)
    graph.tokenInput = tokenInput
    graph.namedInputs = namedInputs
    graph.budgetPrecision = budgetPrecision
    graph.budgetOptimizer = budgetOptimizer
    graph.budgetMixedPrecision = budgetMixedPrecision
    graph.budgetBatch = budgetBatch
    graph.expectedTotals = expectedTotals
    return Spec(
      graph: graph, source: source, weights: entries["weights"].map { WeightsDecl($0.value) },
      unusedVars: declared.compactMap { vars[$0] }.filter { !usedVars.contains($0.name) },
      unusedBlocks: blocks.values.filter { !usedBlocks.contains($0.name) }
        .sorted { $0.range.start < $1.range.start }.map { ($0.name, $0.range) },
      repeatVars: declared.compactMap { vars[$0] }.filter { repeatVars.contains($0.name) })
  }

  /// Records a diagnostic.
  func record(_ d: Diagnostic) { diagnostics.append(d) }

  /// Runs `body`, recording what it throws instead of stopping.
  func attempt(_ body: () throws(DiagnosticError) -> Void) {
    do { try body() } catch { diagnostics.append(contentsOf: error.diagnostics) }
  }

  /// The range of a scalar's content: past the opening quote of a quoted scalar.
  func contentRange(of node: YAMLNode) -> SourceRange {
    guard case .scalar(let text, let style) = node.kind else { return node.range }
    let offset = (style == .singleQuoted || style == .doubleQuoted) ? 1 : 0
    return node.range.slice(offset: offset, length: text.unicodeScalars.count)
  }

  private func lowerVars(_ node: YAMLNode?) throws(DiagnosticError) {
    guard let node else { return }
    guard let pairs = node.mapping else {
      throw DiagnosticError([.error(.wrongType, "`vars` must be a mapping such as `k: 1..205`", at: node.range)])
    }
    for pair in pairs {
      attempt { () throws(DiagnosticError) in
        guard let name = pair.key.scalar, !name.isEmpty,
          name.unicodeScalars.enumerated().allSatisfy({ IntegerExpression.isNameScalar($1, first: $0 == 0) })
        else {
          throw DiagnosticError([.error(.invalidValue, "a var name is a word of letters, digits and `_`", at: pair.key.range)])
        }
        // Declared even when its domain is wrong, so that each `$name` does not also fail.
        vars[name] = VarDecl(name: name, domain: nil, range: pair.key.range)
        vars[name] = VarDecl(name: name, domain: try domain(pair.value), range: pair.key.range)
      }
    }
  }

  private func domain(_ node: YAMLNode) throws(DiagnosticError) -> VarDecl.Domain? {
    switch node.kind {
    case .scalar(let text, let style):
      let t = text.trimmingSpaces
      if style == .plain && (t.isEmpty || t == "~" || t == "null") { return nil }
      let halves = t.split(separator: "..", maxSplits: 1, omittingEmptySubsequences: false)
      if halves.count == 2 {
        let lo = try IntegerExpression.integer(String(halves[0]).trimmingSpaces, at: node.range)
        let hi = try IntegerExpression.integer(String(halves[1]).trimmingSpaces, at: node.range)
        guard lo <= hi else {
          throw DiagnosticError([.error(.invalidValue, "the range `\(t)` is empty: \(lo) > \(hi)", at: node.range)])
        }
        return .range(lo...hi)
      }
      let v = try IntegerExpression.integer(t, at: node.range)
      return .list([v])
    case .sequence(let items):
      var values: [Int] = []
      for item in items {
        guard let text = item.scalar else {
          throw DiagnosticError([.error(.wrongType, "a var's list holds integers", at: item.range)])
        }
        values.append(try IntegerExpression.integer(text.trimmingSpaces, at: item.range))
      }
      guard !values.isEmpty else {
        throw DiagnosticError([.error(.invalidValue, "a var's list needs at least one value", at: node.range)])
      }
      return .list(Array(Set(values)).sorted())
    case .mapping:
      throw DiagnosticError([.error(.wrongType, "a var's domain is a range `1..9`, a list `[1, 3]` or a number", at: node.range)])
    }
  }

  private func lowerBlocks(_ node: YAMLNode?) throws(DiagnosticError) {
    guard let node else { return }
    guard let pairs = node.mapping else {
      throw DiagnosticError([.error(.wrongType, "`blocks` must be a mapping from block names to definitions", at: node.range)])
    }
    for pair in pairs {
      attempt { () throws(DiagnosticError) in
        guard let name = pair.key.scalar, !name.isEmpty else {
          throw DiagnosticError([.error(.invalidValue, "a block name is a word", at: pair.key.range)])
        }
        guard let fields = pair.value.mapping else {
          throw DiagnosticError([.error(.wrongType, "block `\(name)` must be a mapping with `params` and `layers`", at: pair.value.range)])
        }
        var def = BlockDef(name: name, params: [], layers: [], range: pair.key.range)
        var sawLayers = false
        for field in fields {
          switch field.key.scalar {
          case "params":
            for p in field.value.sequence ?? [field.value] {
              if let text = p.scalar, !text.isEmpty {
                def.params.append((text, nil, p.range))
              } else if let m = p.mapping, m.count == 1, let text = m[0].key.scalar {
                def.params.append((text, m[0].value, m[0].key.range))
              } else {
                throw DiagnosticError([.error(.wrongType, "a block parameter is a name or `{name: default}`", at: p.range)])
              }
            }
          case "layers":
            guard let list = field.value.sequence, !list.isEmpty else {
              throw DiagnosticError([.error(.wrongType, "block `layers` must be a non-empty list", at: field.value.range)])
            }
            def.layers = list
            sawLayers = true
          case "description": break
          default:
            throw DiagnosticError([
              .error(
                .unknownKey, "unknown key `\(field.key.scalar ?? "?")` in a block definition", at: field.key.range,
                notes: [.init("a block has `params`, `layers` and `description`")])
            ])
          }
        }
        guard sawLayers else {
          throw DiagnosticError([.error(.missingKey, "block `\(name)` needs `layers`", at: pair.key.range)])
        }
        blocks[name] = def
      }
    }
  }

  private func lowerDefaults(_ node: YAMLNode?) throws(DiagnosticError) {
    guard let node else { return }
    guard let pairs = node.mapping else {
      throw DiagnosticError([.error(.wrongType, "`defaults` must be a mapping such as `conv: { pad: same }`", at: node.range)])
    }
    let families = Set(LayerOp.all.flatMap(\.families))
    for pair in pairs {
      attempt { () throws(DiagnosticError) in
        guard let family = pair.key.scalar?.lowercased(), families.contains(family) else {
          let word = pair.key.scalar ?? "?"
          var notes: [Diagnostic.Note] = []
          if let guess = closestMatch(to: word, in: families.sorted()) {
            notes.append(.init("did you mean `\(guess)`?", at: pair.key.range))
          }
          throw DiagnosticError([.error(.unknownKey, "unknown defaults group `\(word)`", at: pair.key.range, notes: notes)])
        }
        guard let options = pair.value.mapping else {
          throw DiagnosticError([.error(.wrongType, "defaults for `\(family)` must be a mapping of options", at: pair.value.range)])
        }
        let accepted = Set(LayerOp.all.filter { $0.families.contains(family) }.flatMap(\.options))
        for option in options {
          guard let key = option.key.scalar?.lowercased(), accepted.contains(key) else {
            throw DiagnosticError([
              .error(
                .unknownOption, "`\(option.key.scalar ?? "?")` is not an option of any `\(family)` layer", at: option.key.range,
                notes: [.init("`\(family)` layers accept \(accepted.sorted().map { "`\($0)`" }.joined(separator: ", "))")])
            ])
          }
          defaults[family, default: []].append(
            OptionEntry(key: key, keyRange: option.key.range, items: try LayerLonghand.valueItems(option.value, key: key)))
        }
      }
    }
  }

  private func lowerBudget(_ node: YAMLNode) throws(DiagnosticError) -> [BudgetLimit] {
    guard let pairs = node.mapping else {
      throw DiagnosticError([.error(.wrongType, "`budget` must be a mapping such as `params: \"<= 5M\"`", at: node.range)])
    }
    var limits: [BudgetLimit] = []
    var settings: [(key: String, range: SourceRange)] = []
    for pair in pairs {
      if let key = pair.key.scalar, Self.budgetSettings.contains(key), key != "precision" {
        try lowerBudgetSetting(key, pair.value)
        settings.append((key, pair.key.range))
        continue
      }
      if pair.key.scalar == "precision" {
        guard let text = pair.value.scalar?.lowercased(), let p = StorageType(rawValue: text) else {
          throw DiagnosticError([
            .error(
              .invalidValue,
              "`precision` is \(StorageType.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", ")), found \(pair.value.kindDescription)",
              at: pair.value.range)
          ])
        }
        budgetPrecision = p
        continue
      }
      guard let key = pair.key.scalar, let metric = BudgetLimit.Metric(rawValue: key) else {
        throw DiagnosticError([
          .error(
            .unknownKey, "unknown budget `\(pair.key.scalar ?? "?")`", at: pair.key.range,
            notes: [
              .init(
                "budgets are \(BudgetLimit.Metric.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", ")); the byte ones take `precision`, `batch`, and for `training` `optimizer` and `mixed_precision`"
              )
            ])
        ])
      }
      guard var text = pair.value.scalar?.trimmingSpaces else {
        throw DiagnosticError([.error(.wrongType, "a budget is a limit such as \"<= 5M\"", at: pair.value.range)])
      }
      var relation = Condition.Relation.le
      for r in [Condition.Relation.le, .ge, .lt, .gt, .eq] where text.hasPrefix(r.rawValue) {
        relation = r
        text = String(text.dropFirst(r.rawValue.count)).trimmingSpaces
        break
      }
      let bound = metric.isBytes ? try Self.byteCount(text, at: pair.value.range) : try Self.scaledNumber(text, at: pair.value.range)
      limits.append(BudgetLimit(metric: metric, relation: relation, bound: bound, range: pair.value.range))
    }
    // A setting nothing reads would be silently ignored: say which budget it needs.
    for (key, range) in settings {
      let readers: [BudgetLimit.Metric] = key == "batch" ? BudgetLimit.Metric.allCases.filter(\.growsWithBatch) : [.training]
      guard !limits.contains(where: { readers.contains($0.metric) }) else { continue }
      throw DiagnosticError([
        .error(
          .invalidValue,
          "`\(key)` sets how \(readers.map { "`\($0.rawValue)`" }.joined(separator: ", ")) \(readers.count == 1 ? "is" : "are") counted, and this budget has none",
          at: range,
          notes: [
            .init(
              key == "batch"
                ? "add a limit such as `training: \"<= 16 GiB\"`" : "add a limit such as `training: \"<= 16 GiB\"`, or remove `\(key)`")
          ])
      ])
    }
    return limits
  }

  /// The keys of `budget:` that are settings, not limits.
  static let budgetSettings = ["precision", "optimizer", "mixed_precision", "batch"]

  /// `optimizer: adamw`, `mixed_precision: bf16`, `batch: 32` or `batch: $B`.
  private func lowerBudgetSetting(_ key: String, _ value: YAMLNode) throws(DiagnosticError) {
    guard let text = value.scalar?.trimmingSpaces else {
      throw DiagnosticError([.error(.wrongType, "`\(key)` is a single value, found \(value.kindDescription)", at: value.range)])
    }
    switch key {
    case "optimizer":
      guard let o = Optimizer(rawValue: text.lowercased()) else {
        let names = Optimizer.allCases.map(\.rawValue)
        throw DiagnosticError([
          .error(
            .invalidValue, "unknown optimizer `\(text)`", at: value.range,
            notes: (closestMatch(to: text.lowercased(), in: names).map { [Diagnostic.Note("did you mean `\($0)`?", at: value.range)] } ?? [])
              + [.init("optimizers are \(names.map { "`\($0)`" }.joined(separator: ", "))")])
        ])
      }
      budgetOptimizer = o
    case "mixed_precision":
      guard let p = StorageType(rawValue: text.lowercased()), p == .fp16 || p == .bf16 else {
        throw DiagnosticError([.error(.invalidValue, "`mixed_precision` is `fp16` or `bf16`, found `\(text)`", at: value.range)])
      }
      budgetMixedPrecision = p
    default:
      let topScope = Scope(prefix: "", depth: 0, bindings: [:], blockChain: [])
      let v = try intValue(ValueItem(text: text, range: contentRange(of: value)), scope: topScope, what: "the budget's batch")
      if let c = v.expr.constant, c < 1 {
        throw DiagnosticError([.error(.invalidValue, "the budget's batch must be at least 1, got \(c)", at: v.range)])
      }
      budgetBatch = v
    }
  }

  /// `24 GiB`, `16GB`, `512 MiB`, `1.5 GB`, `100000`: bytes with a binary (KiB, MiB, GiB,
  /// TiB) or decimal (KB, MB, GB, TB; K, M, G) unit, or none.
  static func byteCount(_ raw: String, at range: SourceRange) throws(DiagnosticError) -> Int {
    var text = raw.trimmingSpaces
    let units: [(String, Int)] = [
      ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("KB", 1_000), ("MB", 1_000_000),
      ("GB", 1_000_000_000), ("TB", 1_000_000_000_000), ("B", 1),
    ]
    var scale = 1
    for (unit, s) in units where text.hasSuffix(unit) {
      scale = s
      text = String(text.dropLast(unit.count)).trimmingSpaces
      break
    }
    if scale == 1 {
      do { return try scaledNumber(text, at: range) } catch {
        // `16 GiG` read as a count gave "expected an integer, found `16 Gi`": say what a byte figure is.
        guard error.diagnostics.first?.code == .invalidValue else { throw error }
        throw DiagnosticError([
          .error(.invalidValue, "expected bytes such as `16 GiB`, `24GB` or `100000`, found `\(raw.trimmingSpaces)`", at: range)
        ])
      }
    }
    // The number in thousandths, so `1.5 GiB` stays exact.
    let milli = try scaledNumber(text + "K", at: range)
    let (product, overflow) = milli.multipliedReportingOverflow(by: scale)
    guard !overflow, product % 1000 == 0 else {
      throw DiagnosticError([.error(.invalidValue, "`\(raw)` is not a whole number of bytes below 2^63", at: range)])
    }
    return product / 1000
  }

  /// `5M`, `1.5G`, `600_000`: K, M, G are 10^3, 10^6, 10^9; the result must be whole.
  static func scaledNumber(_ raw: String, at range: SourceRange) throws(DiagnosticError) -> Int {
    var text = raw.replacingUnderscores
    var scale = 1
    if let last = text.last, let s = ["K": 1_000, "M": 1_000_000, "G": 1_000_000_000, "k": 1_000][String(last)] {
      scale = s
      text.removeLast()
    }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count <= 2, !(parts.first ?? "").isEmpty else {
      throw DiagnosticError([.error(.invalidValue, "expected a number such as `5M` or `600000`, found `\(raw)`", at: range)])
    }
    var digits = String(parts[0])
    var fractionScale = 1
    if parts.count == 2 {
      digits += parts[1]
      // Found by fuzzing: 19 or more decimals overflowed the scale and trapped.
      for _ in parts[1] {
        let (next, overflow) = fractionScale.multipliedReportingOverflow(by: 10)
        guard !overflow else {
          throw DiagnosticError([
            .error(
              .overflow, "the number `\(raw.count > 30 ? String(raw.prefix(30)) + "…" : raw)` has too many decimals for 64-bit integers",
              at: range)
          ])
        }
        fractionScale = next
      }
    }
    let whole = try IntegerExpression.integer(digits, at: range)
    let (scaled, overflow) = whole.multipliedReportingOverflow(by: scale)
    guard !overflow else { throw DiagnosticError([.error(.overflow, "the number `\(raw)` does not fit in 64 bits", at: range)]) }
    guard fractionScale > 0, scaled % fractionScale == 0 else {
      throw DiagnosticError([.error(.invalidValue, "`\(raw)` is not a whole number", at: range)])
    }
    return scaled / fractionScale
  }
}

extension String {
  var replacingUnderscores: String { String(filter { $0 != "_" }) }
}

/// Bytes written as a budget writes them (`16 GiB`, `24GB`, `512 MiB`), for command-line
/// options; nil when the text is not such a figure.
public func parseByteCount(_ text: String) -> Int? {
  let range = SourceRange(file: "", start: SourceLocation(line: 1, column: 1), length: 0)
  return try? SpecLowering.byteCount(text, at: range)
}
