import NetcBackends
import NetcIR

/// Writes recognized layers as a spec in netc's shorthand, with the names netc will give
/// them (for the weight files): a layer's name from its module path when the exporter
/// recorded one, left out where it equals netc's default name.
struct SpecWriter {
  let layers: [ImportedLayer]
  var lines: [String] = []
  var weights: [(name: String, tensor: Tensor<Float>)] = []
  /// Each written layer's name, for `tie`; and its full dotted path, for `cross` (which
  /// may name a layer inside a structure or a repeat's last copy).
  var names: [Int: String] = [:]
  var paths: [Int: String] = [:]
  /// Whether convs default to no bias (`defaults: conv: { bias: false }`).
  let convBiasDefault: Bool

  /// One naming scope: the names taken, the counts per mnemonic, the full prefix of its
  /// names and the module path that its layers' paths are relative to.
  struct Scope {
    var taken: Set<String> = []
    var counters: [String: Int] = [:]
    var prefix: String
    var module: String?
    /// Inside a repeat every copy has the same names: netc's defaults, not the graph's.
    var anonymous = false
  }

  init(layers: [ImportedLayer]) {
    self.layers = layers
    let convs = layers.filter { $0.op == .conv || $0.op == .dwconv }
    convBiasDefault = convs.filter { $0.bias == true }.count * 2 >= convs.count
  }

  /// The whole spec.
  mutating func write(_ items: [SpecItem], name: String, header: [String]) -> String {
    lines = header.map { "# " + $0 }
    lines.append("netspec: 1")
    lines.append("name: \(name)")
    var scope = Scope(prefix: "")
    // The longest sequence a learned position table takes, else netc's largest context.
    let most = layers.filter { $0.op == .posembed }.compactMap { $0.parameters.first?.1.shape.first }.min() ?? 131_072
    let froms = items.compactMap { if case .from(let r) = $0 { r } else { nil } }
    if !froms.isEmpty {
      // The first chain reads the input no `from:` names.
      let roots = [layers.indices.first { layers[$0].op == .input && !froms.contains($0) } ?? 0] + froms
      lines.append("inputs:")
      for r in roots {
        let name = inputName(r, scope: &scope)
        lines.append("  \(name): \(sequenceShape(r))")
      }
      let vars = roots.compactMap { layers[$0].options.first }
      if !vars.isEmpty { lines.append("vars:\n" + vars.map { "  \($0): 1..\(most)" }.joined(separator: "\n")) }
    } else if layers[0].head == "tokens" || layers[0].head == "sequence" {
      lines.append("input: \(sequenceShape(0))")
      if let v = layers[0].options.first { lines.append("vars:\n  \(v): 1..\(most)") }
    } else {
      lines.append("input: \(Self.shape(layers[0].shape))")
    }
    if !convBiasDefault { lines.append("defaults:\n  conv: { bias: false }") }
    lines.append("layers:")
    write(items, indent: "  ", scope: &scope)
    return lines.joined(separator: "\n") + "\n"
  }

  /// A sequence input's shape as a spec writes it: `$T tokens`, `7 tokens`, `$S x 512`, `12x512`.
  func sequenceShape(_ r: Int) -> String {
    let l = layers[r]
    let length = l.options.first.map { "$" + $0 } ?? "\(l.shape[0])"
    if l.head == "tokens" { return "\(length) tokens" }
    return l.options.isEmpty ? "\(length)x\(l.shape[1])" : "\(length) x \(l.shape[1])"
  }

  /// An input's name in `inputs:`, from the graph's (`src`, `input_ids`), as netc's names
  /// are spelled; taken in the top scope, where layer names may not repeat it.
  mutating func inputName(_ r: Int, scope: inout Scope) -> String {
    var name = ModulePath.localName(layers[r].nodeName, in: nil)
    if name.isEmpty { name = "input" }
    if scope.taken.contains(name) {
      var k = 2
      while scope.taken.contains("\(name)_\(k)") { k += 1 }
      name = "\(name)_\(k)"
    }
    scope.taken.insert(name)
    names[r] = name
    paths[r] = name
    return name
  }

  /// netc's `HxWxC` of ONNX's `[C, H, W]`; a vector stays `F`.
  static func shape(_ s: [Int]) -> String {
    s.count == 1 ? "\(s[0])" : (s.dropFirst() + [s[0]]).map(String.init).joined(separator: "x")
  }

  mutating func write(_ items: [SpecItem], indent: String, scope: inout Scope) {
    var i = 0
    while i < items.count {
      // A run that starts mid-block (BERT's embedding LN before the first layer's
      // attention) yields to the one a few items on whose copies are the graph's blocks.
      if let (period, count) = run(in: items, at: i) {
        let shifted =
          aligned(items, i, period, count)
          ? nil
          : (1..<period).first { k in
            guard i + k < items.count, let (p, c) = run(in: items, at: i + k) else { return false }
            return p == period && c >= count && aligned(items, i + k, p, c)
          }
        if let k = shifted {
          for item in items[i..<(i + k)] { write(item, indent: indent, scope: &scope) }
          i += k
          continue
        }
        // Copies from modules of their own that are no indexed blocks (a layer's last norm
        // and the stack's final norm) are the model's separate layers, not a repeat.
        if !aligned(items, i, period, count) && separateModules(items, i, period, count) {
          write(items[i], indent: indent, scope: &scope)
          i += 1
          continue
        }
        repeatBlock(Array(items[i..<(i + period * count)]), period: period, count: count, indent: indent, scope: &scope)
        i += period * count
        continue
      }
      write(items[i], indent: indent, scope: &scope)
      i += 1
    }
  }

  /// The longest run of identical chunks (up to 8 items each) from `start`: its period
  /// and count, when there are at least two.
  func run(in items: [SpecItem], at start: Int) -> (Int, Int)? {
    var best: (Int, Int)?
    let signatures = items[start...].prefix(2_000).map(signature)
    for period in 1...max(1, min(8, signatures.count / 2)) where signatures.count >= 2 * period {
      var count = 1
      while (count + 1) * period <= signatures.count,
        Array(signatures[(count * period)..<((count + 1) * period)]) == Array(signatures[0..<period])
      {
        count += 1
      }
      if count >= 2 && period * count > (best.map { $0.0 * $0.1 } ?? 0) { best = (period, count) }
    }
    return best
  }

  /// Whether each copy of a run is one block of the graph: its items' module paths share
  /// one indexed prefix (`encoder.layer.3`), different in each copy.
  func aligned(_ items: [SpecItem], _ start: Int, _ period: Int, _ count: Int) -> Bool {
    var blocks: Set<String> = []
    for copy in 0..<count {
      let chunk = items[(start + copy * period)..<(start + (copy + 1) * period)]
      let ids = Set(chunk.compactMap { modulePath($0).map(Self.block) })
      guard ids.count == 1, let id = ids.first, !id.isEmpty, blocks.insert(id).inserted else { return false }
    }
    return true
  }

  /// Whether every copy of a run has a module path of its own, different from the others'.
  func separateModules(_ items: [SpecItem], _ start: Int, _ period: Int, _ count: Int) -> Bool {
    var seen: Set<String> = []
    for copy in 0..<count {
      let chunk = items[(start + copy * period)..<(start + (copy + 1) * period)]
      let paths = chunk.map(modulePath)
      guard paths.allSatisfy({ $0 != nil }) else { return false }
      guard seen.insert(paths.map { $0! }.joined(separator: "|")).inserted else { return false }
    }
    return true
  }

  /// A module path up to its first numeric component (`encoder.layer.3` of
  /// `encoder.layer.3.attention.output`); empty when it has none.
  static func block(_ path: String) -> String {
    let parts = path.split(separator: ".")
    // `layer.3`, or torchvision's `encoder_layer_3`.
    func indexed(_ p: Substring) -> Bool {
      if !p.isEmpty && p.allSatisfy(\.isNumber) { return true }
      guard let u = p.lastIndex(of: "_"), u != p.startIndex else { return false }
      let digits = p[p.index(after: u)...]
      return !digits.isEmpty && digits.allSatisfy(\.isNumber)
    }
    guard let k = parts.firstIndex(where: indexed) else { return "" }
    return parts[...k].joined(separator: ".")
  }

  /// An item's text without its names: equal for the copies of a block.
  func signature(_ item: SpecItem) -> String {
    switch item {
    case .layer(let i):
      let l = layers[i]
      return
        ([l.head] + l.options + [
          l.bias.map { "bias \($0)" } ?? "", l.tiedTo.map { "tie \($0)" } ?? "", l.cross.map { "cross \($0)" } ?? "",
        ])
        .joined(separator: " ")
    case .from(let r):
      return "from \(r)"
    case .residual(_, let body, let shortcut):
      return "residual(" + body.map(signature).joined(separator: ";") + "|" + shortcut.map(signature).joined(separator: ";") + ")"
    case .parallel(let merge, let branches):
      return "parallel \(layers[merge].op)(" + branches.map { $0.map(signature).joined(separator: ";") }.joined(separator: "|") + ")"
    }
  }

  /// The module path an item came from: its layer's, or its merge's.
  func modulePath(_ item: SpecItem) -> String? {
    switch item {
    case .layer(let i): layers[i].modulePath
    case .residual(let m, _, _), .parallel(let m, _): layers[m].modulePath
    case .from: nil
    }
  }

  /// `count` copies of `period` items as one `repeat`, named after the module path the
  /// copies share (`layer1` of `layer1.0` and `layer1.1`); the copies' weights under
  /// `NAME.k.`, their layers named as netc names them.
  mutating func repeatBlock(_ items: [SpecItem], period: Int, count: Int, indent: String, scope: inout Scope) {
    let paths = stride(from: 0, to: items.count, by: period).map { modulePath(items[$0])?.split(separator: ".").map(String.init) ?? [] }
    var common = paths[0]
    for p in paths.dropFirst() {
      var k = 0
      while k < min(common.count, p.count) && common[k] == p[k] { k += 1 }
      common = Array(common.prefix(k))
    }
    let shared = common.isEmpty || paths.contains(where: { $0.count == common.count }) ? nil : common.joined(separator: ".")
    let (name, written) = claim(shared, mnemonic: "repeat", scope: &scope)
    lines.append(indent + "- repeat: \(count)")
    if written { lines.append(indent + "  name: \(name)") }
    lines.append(indent + "  layers:")
    var firstCopyEnd = lines.count
    for copy in 0..<count {
      var inner = Scope(prefix: scope.prefix + name + ".\(copy + 1).", module: nil, anonymous: true)
      for item in items[(copy * period)..<((copy + 1) * period)] { write(item, indent: indent + "    ", scope: &inner) }
      // Every copy's weights, the first copy's text.
      if copy == 0 { firstCopyEnd = lines.count }
      lines.removeLast(lines.count - firstCopyEnd)
    }
  }

  mutating func write(_ item: SpecItem, indent: String, scope: inout Scope) {
    switch item {
    case .layer(let i):
      let l = layers[i]
      let (name, written) = claim(l.modulePath, mnemonic: l.op.mnemonic, scope: &scope)
      var words = [l.head] + l.options
      if let b = l.bias {
        let byDefault = l.op == .fc ? true : convBiasDefault
        if b != byDefault { words.append("bias \(b)") }
      }
      if let t = l.tiedTo, let owner = names[t] { words.append("tie \(owner)") }
      if let m = l.cross, let memory = paths[m] { words.append("cross \(memory)") }
      if written { words.append("name \(name)") }
      names[i] = name
      paths[i] = scope.prefix + name
      lines.append(indent + "- " + words.joined(separator: " "))
      for (kind, t) in l.parameters { weights.append((scope.prefix + name + "." + kind.rawValue, t)) }
    case .residual(let merge, let body, let shortcut):
      let (name, written) = claim(layers[merge].modulePath, mnemonic: "residual", scope: &scope)
      lines.append(indent + "- residual:")
      if written { lines.append(indent + "    name: \(name)") }
      lines.append(indent + "    body:")
      var inner = Scope(
        prefix: scope.prefix + name + ".body.", module: layers[merge].modulePath ?? scope.module, anonymous: scope.anonymous)
      write(body, indent: indent + "      ", scope: &inner)
      if !shortcut.isEmpty {
        lines.append(indent + "    shortcut:")
        var sc = Scope(
          prefix: scope.prefix + name + ".shortcut.", module: layers[merge].modulePath ?? scope.module, anonymous: scope.anonymous)
        write(shortcut, indent: indent + "      ", scope: &sc)
      }
    case .from(let r):
      lines.append(indent + "- from: \(names[r] ?? "")")
    case .parallel(let merge, let branches) where layers[merge].op == .moe:
      mixture(merge, branches, indent: indent, scope: &scope)
    case .parallel(let merge, let branches):
      let (name, written) = claim(layers[merge].modulePath, mnemonic: "parallel", scope: &scope)
      lines.append(indent + "- parallel:")
      if written { lines.append(indent + "    name: \(name)") }
      lines.append(indent + "    merge: \(layers[merge].op == .concat ? "concat" : layers[merge].op == .mul ? "mul" : "add")")
      lines.append(indent + "    branches:")
      for (k, branch) in branches.enumerated() {
        if branch.isEmpty {
          lines.append(indent + "      - []")
          continue
        }
        lines.append(indent + "      -")
        var inner = Scope(
          prefix: scope.prefix + name + ".branch\(k + 1).", module: layers[merge].modulePath ?? scope.module, anonymous: scope.anonymous)
        write(branch, indent: indent + "        ", scope: &inner)
      }
    }
  }

  /// The name a layer or structure gets in `scope`, and whether the spec must write it
  /// (it is not the default name netc would give it there).
  func claim(_ modulePath: String?, mnemonic: String, scope: inout Scope) -> (String, Bool) {
    let count = (scope.counters[mnemonic] ?? 0) + 1
    scope.counters[mnemonic] = count
    let fallback = DefaultName.make(mnemonic, count: count)
    var name = scope.anonymous ? "" : modulePath.map { ModulePath.localName($0, in: scope.module) } ?? ""
    if name.isEmpty || name == "body" || name == "shortcut" { name = fallback }
    // A layer of a structure's module outside it (a functional ReLU after a block's sum)
    // is that module's layer of its kind.
    if scope.taken.contains(name) && !scope.taken.contains("\(name)_\(mnemonic)") { name = "\(name)_\(mnemonic)" }
    if scope.taken.contains(name) {
      var k = 2
      while scope.taken.contains("\(name)_\(k)") { k += 1 }
      name = "\(name)_\(k)"
    }
    scope.taken.insert(name)
    return (name, name != fallback)
  }
}
