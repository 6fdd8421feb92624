import NetcDiagnostics
import NetcIR

/// Layer lists and the structures in them: residual, parallel, repeat, block instances.
extension SpecLowering {
  /// Lowers `items` one after another from node `input`; returns the last node's id.
  /// An item with an error is skipped, so the rest still get checked.
  @discardableResult
  func lowerItems(_ items: [YAMLNode], from input: Int, scope: inout Scope) throws(DiagnosticError) -> Int {
    var current = input
    for item in items {
      do {
        current = try lowerItem(item, from: current, scope: &scope)
      } catch {
        // Limits stop the whole lowering: going on would only repeat them.
        if error.diagnostics.contains(where: { $0.code == .expansionLimit || $0.code == .nestingLimit }) { throw error }
        diagnostics.append(contentsOf: error.diagnostics)
      }
    }
    return current
  }

  private func lowerItem(_ item: YAMLNode, from input: Int, scope: inout Scope) throws(DiagnosticError) -> Int {
    guard scope.depth < Self.maxDepth else {
      throw DiagnosticError([.error(.nestingLimit, "structures nest deeper than \(Self.maxDepth) levels", at: item.range)])
    }
    switch item.kind {
    case .scalar(let text, let style):
      guard style != .literal && style != .folded || !text.contains("\n") else {
        throw DiagnosticError([.error(.shorthandSyntax, "a layer is written on one line", at: item.range)])
      }
      if style == .plain, let misplaced = overIndentedItem(in: item) { throw misplaced }
      guard !text.trimmingSpaces.isEmpty else {
        throw DiagnosticError([.error(.shorthandSyntax, "empty layer: expected a layer such as `CONV3-20` or `RELU`", at: item.range)])
      }
      return try lowerLayer(try shorthand(text, at: contentRange(of: item)), from: input, scope: &scope)
    case .mapping(let pairs):
      let keys = pairs.compactMap { $0.key.scalar?.lowercased() }
      if keys.contains("repeat") { return try lowerRepeat(pairs, at: item.range, from: input, scope: &scope) }
      if keys.contains("block") { return try lowerBlockInstance(pairs, at: item.range, from: input, scope: &scope) }
      guard pairs.count == 1, let key = keys.first else {
        throw DiagnosticError([
          .error(
            .wrongType, "a layer mapping has one key, the layer kind or structure, such as `conv: {...}` or `residual: {...}`",
            at: item.range)
        ])
      }
      let pair = pairs[0]
      switch key {
      case "residual": return try lowerResidual(pair, from: input, scope: &scope)
      case "parallel": return try lowerParallel(pair, from: input, scope: &scope)
      case "moe": return try lowerMixture(pair, from: input, scope: &scope)
      case "from": return try lowerFrom(pair, scope: scope)
      default:
        guard let op = LayerOp.byName[key] else {
          var notes: [Diagnostic.Note] = []
          if let guess = closestMatch(to: key, in: LayerOp.all.map(\.name) + LayerOp.structures + ["from"]) {
            notes.append(.init("did you mean `\(guess)`?", at: pair.key.range))
          }
          throw DiagnosticError([.error(.unknownOp, "unknown layer kind `\(pair.key.scalar ?? key)`", at: pair.key.range, notes: notes)])
        }
        return try lowerLayer(LayerLonghand.parse(op: op, key: pair.key, value: pair.value), from: input, scope: &scope)
      }
    case .sequence:
      throw DiagnosticError([
        .error(
          .wrongType, "expected a layer such as `CONV3-20` or `conv: {...}`, found a list", at: item.range,
          notes: [.init("a nested list of layers belongs in a structure: `repeat`, `residual`, `parallel` or a block")])
      ])
    }
  }

  /// A list item indented deeper than the one above (`   - RELU` under `  - CONV3-16`):
  /// YAML folds it into the text above as `CONV3-16 - RELU`, whose `-` would otherwise be
  /// reported as an option of CONV. Points at the indentation of the line that starts `-`.
  private func overIndentedItem(in item: YAMLNode) -> DiagnosticError? {
    let range = item.range
    guard range.end.line > range.start.line, let source, let first = source.line(range.start.line) else { return nil }
    func indent(_ line: Substring) -> Int { line.prefix { $0 == " " }.count }
    let above = first.prefix(while: { $0 == " " || $0 == "-" }).lastIndex(of: "-").map { first.distance(from: first.startIndex, to: $0) }
    for number in (range.start.line + 1)...range.end.line {
      guard let line = source.line(number) else { continue }
      let content = line.drop { $0 == " " }
      guard content == "-" || content.hasPrefix("- ") else { continue }
      let spaces = indent(line)
      var notes: [Diagnostic.Note] = []
      if let above {
        notes.append(.init("indent it by \(above) spaces, as the item above, to make it a layer of its own"))
      }
      return DiagnosticError([
        .error(
          .shorthandSyntax,
          "this list item is indented deeper than the one above, so YAML reads `\(content)` as part of that layer",
          at: SourceRange(file: range.file, start: SourceLocation(line: number, column: 1), length: max(1, spaces)),
          notes: notes)
      ])
    }
    return nil
  }

  /// The shorthand parsed once per distinct text: large specs repeat the same few layer
  /// strings (through `repeat`, blocks and aliases), so later uses only move the ranges.
  private func shorthand(_ text: String, at start: SourceRange) throws(DiagnosticError) -> LayerDecl {
    if let (decl, origin) = shorthandCache[text], origin.file == start.file {
      return decl.shifted(lines: start.start.line - origin.start.line, columns: start.start.column - origin.start.column)
    }
    let decl = try LayerShorthand.parse(text, at: start)
    shorthandCache[text] = (decl, start)
    return decl
  }

  /// The fields of a structure's mapping, checked against the keys it accepts.
  private func fields(_ pairs: [YAMLPair], of what: String, accepted: [String]) throws(DiagnosticError) -> [String: YAMLPair] {
    var out: [String: YAMLPair] = [:]
    for pair in pairs {
      guard let key = pair.key.scalar?.lowercased(), accepted.contains(key) else {
        let word = pair.key.scalar ?? "?"
        var notes: [Diagnostic.Note] = []
        if let guess = closestMatch(to: word, in: accepted) { notes.append(.init("did you mean `\(guess)`?", at: pair.key.range)) }
        notes.append(.init("`\(what)` accepts \(accepted.map { "`\($0)`" }.joined(separator: ", "))"))
        throw DiagnosticError([.error(.unknownKey, "unknown key `\(word)` in `\(what)`", at: pair.key.range, notes: notes)])
      }
      out[key] = pair
    }
    return out
  }

  private func layerList(_ node: YAMLNode, what: String) throws(DiagnosticError) -> [YAMLNode] {
    guard let list = node.sequence, !list.isEmpty else {
      throw DiagnosticError([
        .error(.wrongType, "\(what) must be a non-empty list of layers, found \(node.kindDescription)", at: node.range)
      ])
    }
    return list
  }

  private func explicitName(_ pair: YAMLPair?) throws(DiagnosticError) -> (String, SourceRange)? {
    guard let pair else { return nil }
    let item = ValueItem(text: pair.value.scalar ?? "", range: pair.value.range)
    return (try validName(item), item.range)
  }

  /// Adds a group covering the nodes made since `first`, if any.
  private func addGroup(_ name: String, _ kind: Group.Kind, depth: Int, from first: Int, range: SourceRange) {
    guard nodes.count > first else { return }
    groups.append(Group(name: name, kind: kind, depth: depth, nodes: first...(nodes.count - 1), range: range))
  }

  private func lowerResidual(_ pair: YAMLPair, from input: Int, scope: inout Scope) throws(DiagnosticError) -> Int {
    guard let spec = pair.value.mapping else {
      throw DiagnosticError([.error(.wrongType, "`residual` must be a mapping with `body` (and `shortcut`, `name`)", at: pair.value.range)])
    }
    let f = try fields(spec, of: "residual", accepted: ["name", "body", "shortcut"])
    guard let bodyPair = f["body"] else {
      throw DiagnosticError([.error(.missingKey, "`residual` needs `body`, the list of layers added to the shortcut", at: pair.key.range)])
    }
    let body = try layerList(bodyPair.value, what: "`body`")
    let name = try claimName(explicit: try explicitName(f["name"]), mnemonic: "residual", range: pair.key.range, scope: &scope)
    let local = String(name.dropFirst(scope.prefix.count))
    let first = nodes.count
    var inner = scope.child(local)

    let bodyStart = nodes.count
    var bodyScope = inner.child("body")
    let bodyOut = try lowerItems(body, from: input, scope: &bodyScope)
    _ = try claimName(explicit: ("body", bodyPair.key.range), mnemonic: "body", range: bodyPair.key.range, scope: &inner)
    addGroup(name + ".body", .body, depth: inner.depth, from: bodyStart, range: bodyPair.value.range)

    var shortcutOut = input
    if let sc = f["shortcut"] {
      _ = try claimName(explicit: ("shortcut", sc.key.range), mnemonic: "shortcut", range: sc.key.range, scope: &inner)
      let scStart = nodes.count
      var scScope = inner.child("shortcut")
      switch sc.value.scalar?.lowercased() {
      case "identity"?: break
      case "auto"?:
        // Identity when the shapes match, else a 1x1 projection; shape inference decides.
        var conv = Attributes()
        conv.kernel = [.const(1, at: sc.value.range)]
        conv.bias = false
        conv.shortcutTarget = bodyOut
        let convName = try claimName(explicit: nil, mnemonic: "conv", range: sc.value.range, scope: &scScope)
        let convID = try emit(convName, .conv, inputs: [input], conv, range: sc.value.range, depth: scScope.depth)
        var bn = Attributes()
        bn.shortcutTarget = bodyOut
        let bnName = try claimName(explicit: nil, mnemonic: "bn", range: sc.value.range, scope: &scScope)
        shortcutOut = try emit(bnName, .bn, inputs: [convID], bn, range: sc.value.range, depth: scScope.depth)
      case nil where sc.value.sequence != nil:
        shortcutOut = try lowerItems(try layerList(sc.value, what: "`shortcut`"), from: input, scope: &scScope)
      default:
        throw DiagnosticError([
          .error(
            .invalidValue, "`shortcut` is `identity`, `auto` or a list of layers, found \(sc.value.kindDescription)", at: sc.value.range)
        ])
      }
      addGroup(name + ".shortcut", .shortcut, depth: inner.depth, from: scStart, range: sc.value.range)
    }
    // A merge is unique in its structure, so it is named by its op alone: `res1.add`.
    let addName = try claimName(explicit: ("add", pair.key.range), mnemonic: "add", range: pair.key.range, scope: &inner)
    let out = try emit(addName, .add, inputs: [bodyOut, shortcutOut], Attributes(), range: pair.key.range, depth: inner.depth)
    addGroup(name, .residual, depth: scope.depth, from: first, range: pair.key.range)
    return out
  }

  private func lowerParallel(_ pair: YAMLPair, from input: Int, scope: inout Scope) throws(DiagnosticError) -> Int {
    guard let spec = pair.value.mapping else {
      throw DiagnosticError([.error(.wrongType, "`parallel` must be a mapping with `branches` (and `merge`, `name`)", at: pair.value.range)]
      )
    }
    let f = try fields(spec, of: "parallel", accepted: ["name", "merge", "branches", "split"])
    var mergeOp = OpKind.concat
    if let m = f["merge"] {
      switch m.value.scalar?.lowercased() {
      case "concat"?: mergeOp = .concat
      case "add"?: mergeOp = .add
      case "mul"?: mergeOp = .mul
      default:
        throw DiagnosticError([
          .error(.invalidValue, "`merge` is `concat`, `add` or `mul`, found \(m.value.kindDescription)", at: m.value.range)
        ])
      }
    }
    var split = false
    if let given = f["split"] {
      switch given.value.scalar?.lowercased() {
      case "true"?, "yes"?, "on"?: split = true
      case "false"?, "no"?, "off"?: split = false
      default:
        throw DiagnosticError([
          .error(.invalidValue, "`split` is `true` or `false`, found \(given.value.kindDescription)", at: given.value.range)
        ])
      }
    }
    guard let branchesPair = f["branches"], let branches = branchesPair.value.sequence, !branches.isEmpty else {
      throw DiagnosticError([
        .error(.missingKey, "`parallel` needs `branches`, a list of layer lists", at: f["branches"]?.value.range ?? pair.key.range)
      ])
    }
    let name = try claimName(explicit: try explicitName(f["name"]), mnemonic: "parallel", range: pair.key.range, scope: &scope)
    let local = String(name.dropFirst(scope.prefix.count))
    let first = nodes.count
    var inner = scope.child(local)
    var outs: [Int] = []
    for (i, branch) in branches.enumerated() {
      let branchName = try claimName(explicit: nil, mnemonic: "branch", range: branch.range, scope: &inner)
      let start = nodes.count
      var branchScope = inner.child(String(branchName.dropFirst(inner.prefix.count)))
      var from = input
      if split {
        // ShuffleNet's channel split: branch i reads the i-th of equal parts of the channels.
        var a = Attributes()
        a.count = .const(branches.count, at: f["split"]!.value.range)
        a.index = i
        from = try emit(branchName + ".split", .slice, inputs: [input], a, range: branch.range, depth: branchScope.depth)
      }
      // An empty branch passes its input through, as Inception's identity paths do.
      if let list = branch.sequence, list.isEmpty {
        outs.append(from)
        addGroup(branchName, .branch, depth: inner.depth, from: start, range: branch.range)
        continue
      }
      outs.append(try lowerItems(try layerList(branch, what: "a branch"), from: from, scope: &branchScope))
      addGroup(branchName, .branch, depth: inner.depth, from: start, range: branch.range)
    }
    let mergeName = try claimName(
      explicit: (mergeOp.mnemonic, pair.key.range), mnemonic: mergeOp.mnemonic, range: pair.key.range, scope: &inner)
    let out = try emit(mergeName, mergeOp, inputs: outs, Attributes(), range: pair.key.range, depth: inner.depth)
    addGroup(name, .parallel, depth: scope.depth, from: first, range: pair.key.range)
    return out
  }

  /// A mixture of experts: a router (a bias-free linear layer scoring the experts), one
  /// expert's layers standing for all of them (each node counts `experts` times in the
  /// totals and `top` times in the active figures), and the weighted sum of the routed ones.
  private func lowerMixture(_ pair: YAMLPair, from input: Int, scope: inout Scope) throws(DiagnosticError) -> Int {
    guard let spec = pair.value.mapping else {
      throw DiagnosticError([.error(.wrongType, "`moe` must be a mapping with `experts`, `top` and `layers`", at: pair.value.range)])
    }
    let f = try fields(spec, of: "moe", accepted: ["name", "experts", "top", "layers"])
    func count(_ key: String, what: String) throws(DiagnosticError) -> SymValue? {
      guard let p = f[key] else { return nil }
      let v = try intValue(ValueItem(text: p.value.scalar ?? "", range: p.value.range), scope: scope, what: what)
      if let c = v.expr.constant, c < 1 {
        throw DiagnosticError([.error(.invalidValue, "\(what) must be at least 1, got \(c)", at: p.value.range)])
      }
      return v
    }
    guard let experts = try count("experts", what: "the number of experts") else {
      throw DiagnosticError([.error(.missingKey, "`moe` needs `experts`, how many copies of its layers there are", at: pair.key.range)])
    }
    let top = try count("top", what: "the experts per token") ?? .const(1, at: pair.key.range)
    guard let layersPair = f["layers"] else {
      throw DiagnosticError([.error(.missingKey, "`moe` needs `layers`, the layers of one expert", at: pair.key.range)])
    }
    let body = try layerList(layersPair.value, what: "`layers`")
    let name = try claimName(explicit: try explicitName(f["name"]), mnemonic: "moe", range: pair.key.range, scope: &scope)
    let local = String(name.dropFirst(scope.prefix.count))
    let first = nodes.count
    var inner = scope.child(local)
    var router = Attributes()
    router.count = experts
    router.integers[.topK] = [top]
    router.bias = false
    let routerName = try claimName(explicit: ("router", pair.key.range), mnemonic: "router", range: pair.key.range, scope: &inner)
    let routerID = try emit(routerName, .router, inputs: [input], router, range: pair.key.range, depth: inner.depth)
    let expertName = try claimName(
      explicit: ("expert", layersPair.key.range), mnemonic: "expert", range: layersPair.key.range, scope: &inner)
    var expertScope = inner.child("expert")
    let start = nodes.count
    let out = try lowerItems(body, from: input, scope: &expertScope)
    for id in start..<nodes.count {
      if nodes[id].attributes.integers[.experts] != nil {
        throw DiagnosticError([.error(.invalidValue, "a mixture of experts cannot nest in an expert", at: nodes[id].range)])
      }
      nodes[id].attributes.integers[.experts] = [experts]
      nodes[id].attributes.integers[.topK] = [top]
    }
    addGroup(expertName, .expert, depth: inner.depth, from: start, range: layersPair.key.range)
    let mergeName = try claimName(explicit: ("moe", pair.key.range), mnemonic: "moe", range: pair.key.range, scope: &inner)
    let merged = try emit(mergeName, .moe, inputs: [routerID, out, input], Attributes(), range: pair.key.range, depth: inner.depth)
    addGroup(name, .moe, depth: scope.depth, from: first, range: pair.key.range)
    return merged
  }

  private func lowerRepeat(_ pairs: [YAMLPair], at range: SourceRange, from input: Int, scope: inout Scope) throws(DiagnosticError) -> Int {
    let f = try fields(pairs, of: "repeat", accepted: ["repeat", "layers", "name"])
    let countPair = f["repeat"]!
    let countValue = try intValue(
      ValueItem(text: countPair.value.scalar ?? "", range: countPair.value.range), scope: scope, what: "a repeat count")
    // A count in vars (`repeat: $L`) shapes the graph itself: it takes its value before
    // lowering (`--set`, or each value of its domain in `solve` and `check`).
    repeatVars.formUnion(countValue.expr.variables)
    let bound = countValue.expr.substituting(repeatBindings.mapValues { SymExpr.const($0) }).simplified
    guard let count = bound.constant else {
      let unbound = bound.variables.sorted()
      throw DiagnosticError([
        .error(
          .unboundVar, "the repeat count `\(countValue.expr)` has no value here", at: countPair.value.range,
          notes: [
            .init(
              "a repeat count decides the layers themselves: bind \(unbound.map { "`\($0)`" }.joined(separator: ", ")) with `--set \(unbound[0])=N`; `netc solve` and `netc check` try every value of its domain"
            )
          ])
      ])
    }
    guard count >= 1, count <= Self.maxNodes else {
      throw DiagnosticError([
        .error(
          count < 1 ? .invalidValue : .expansionLimit, "a repeat count must be between 1 and \(Self.maxNodes), got \(count)",
          at: countPair.value.range)
      ])
    }
    guard let layersPair = f["layers"] else {
      throw DiagnosticError([.error(.missingKey, "`repeat` needs `layers`, the list to repeat", at: countPair.key.range)])
    }
    let layers = try layerList(layersPair.value, what: "`layers`")
    let name = try claimName(explicit: try explicitName(f["name"]), mnemonic: "repeat", range: countPair.key.range, scope: &scope)
    let local = String(name.dropFirst(scope.prefix.count))
    let first = nodes.count
    var inner = scope.child(local)
    var current = input
    for i in 1...count {
      let copyName = try claimName(explicit: nil, mnemonic: "", range: range, scope: &inner)
      assert(copyName.hasSuffix(String(i)))
      let start = nodes.count
      var copyScope = inner.child(String(i))
      let errorsBefore = diagnostics.count
      current = try lowerItems(layers, from: current, scope: &copyScope)
      addGroup(copyName, .copy, depth: inner.depth, from: start, range: layersPair.value.range)
      // Every copy would report the same errors again.
      if diagnostics.count > errorsBefore { break }
      // The first copy tells how many layers the rest will make: fail now, not after
      // building up to the limit (a nested `repeat: 2000000` would take minutes to get there).
      if i == 1 {
        let (rest, o1) = (nodes.count - start).multipliedReportingOverflow(by: count - 1)
        let (total, o2) = nodes.count.addingReportingOverflow(rest)
        if o1 || o2 || total > Self.maxNodes {
          throw DiagnosticError([
            .error(
              .expansionLimit, "the spec expands to more than \(Self.maxNodes) layers", at: countPair.value.range,
              notes: [.init("\(count) copies of \(nodes.count - start) \(nodes.count - start == 1 ? "layer" : "layers") each")])
          ])
        }
      }
    }
    addGroup(name, .repeat, depth: scope.depth, from: first, range: countPair.key.range)
    return current
  }

  private func lowerBlockInstance(_ pairs: [YAMLPair], at range: SourceRange, from input: Int, scope: inout Scope) throws(DiagnosticError)
    -> Int
  {
    let f = try fields(pairs, of: "block", accepted: ["block", "with", "name"])
    let blockPair = f["block"]!
    guard let blockName = blockPair.value.scalar, let def = blocks[blockName] else {
      let word = blockPair.value.scalar ?? blockPair.value.kindDescription
      var notes: [Diagnostic.Note] = []
      if let guess = closestMatch(to: word, in: Array(blocks.keys)) {
        notes.append(.init("did you mean `\(guess)`?", at: blockPair.value.range))
      }
      if blocks.isEmpty { notes.append(.init("define blocks under the top-level key `blocks`")) }
      throw DiagnosticError([.error(.unknownBlock, "unknown block `\(word)`", at: blockPair.value.range, notes: notes)])
    }
    usedBlocks.insert(blockName)
    if let at = scope.blockChain.firstIndex(of: blockName) {
      let chain = (scope.blockChain[at...] + [blockName]).joined(separator: " -> ")
      throw DiagnosticError([
        .error(
          .recursiveBlock, "block `\(blockName)` uses itself: \(chain)", at: blockPair.value.range,
          notes: [.init("`\(blockName)` is defined here", at: def.range)])
      ])
    }
    var given: [String: YAMLPair] = [:]
    if let with = f["with"] {
      guard let args = with.value.mapping else {
        throw DiagnosticError([.error(.wrongType, "`with` must be a mapping of block parameters", at: with.value.range)])
      }
      for arg in args {
        let key = arg.key.scalar ?? "?"
        guard def.params.contains(where: { $0.name == key }) else {
          var notes: [Diagnostic.Note] = []
          if let guess = closestMatch(to: key, in: def.params.map(\.name)) {
            notes.append(.init("did you mean `\(guess)`?", at: arg.key.range))
          }
          notes.append(
            .init(
              def.params.isEmpty
                ? "block `\(blockName)` takes no parameters"
                : "block `\(blockName)` takes \(def.params.map { "`\($0.name)`" }.joined(separator: ", "))"))
          throw DiagnosticError([.error(.blockArguments, "block `\(blockName)` has no parameter `\(key)`", at: arg.key.range, notes: notes)]
          )
        }
        given[key] = arg
      }
    }
    var bindings = scope.bindings
    for param in def.params {
      let valueNode: YAMLNode
      var paramScope = scope
      if let arg = given[param.name] {
        valueNode = arg.value
      } else if let d = param.defaultValue {
        valueNode = d
        paramScope.bindings = [:]
      } else {
        throw DiagnosticError([
          .error(
            .blockArguments, "block `\(blockName)` needs a value for `\(param.name)`", at: (f["with"]?.key ?? blockPair.key).range,
            notes: [.init("`\(param.name)` is declared here", at: param.range)])
        ])
      }
      guard let text = valueNode.scalar else {
        throw DiagnosticError([.error(.wrongType, "a block argument is an integer or `${...}`", at: valueNode.range)])
      }
      bindings[param.name] = try intValue(
        ValueItem(text: text.trimmingSpaces, range: contentRange(of: valueNode)), scope: paramScope, what: "`\(param.name)`"
      ).expr
    }
    let name = try claimName(explicit: try explicitName(f["name"]), mnemonic: blockName, range: blockPair.value.range, scope: &scope)
    let first = nodes.count
    var inner = scope.child(String(name.dropFirst(scope.prefix.count)), bindings: bindings, block: blockName)
    let out = try lowerItems(def.layers, from: input, scope: &inner)
    addGroup(name, .block, depth: scope.depth, from: first, range: blockPair.value.range)
    return out
  }
}
