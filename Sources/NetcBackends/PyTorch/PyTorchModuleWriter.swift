import NetcDiagnostics
import NetcIR
import NetcPasses

/// Writes the classes of the generated module: one for the network, one per kind of
/// structure (identical copies of a repeat share theirs and become an `nn.ModuleList`),
/// each with an `__init__` that builds its layers and a straight-line `forward`.
struct PyTorchModuleWriter {
  let graph: Graph
  let shapes: Shapes
  let layouts: [TorchLayout]
  let layers: TorchLayerWriter
  /// Classes in dependency order, and the name each distinct source got.
  private(set) var records: [ClassRecord] = []
  private var classNames: [String: String] = [:]
  private var usedClassNames: Set<String> = []
  /// Per node, its path of attributes from the network's module (`h`, `0`, `attn`).
  var statePaths: [Int: [String]] = [:]
  var helpers: Set<TorchHelper> = []

  init(graph: Graph, shapes: Shapes) {
    self.graph = graph
    self.shapes = shapes
    layouts = torchLayouts(graph, shapes)
    layers = TorchLayerWriter(graph: graph, shapes: shapes, layouts: layouts)
    usedClassNames = PythonNames.reserved.union(["Attention", "DropPath", "RMSNormWithBias"])
  }

  /// One step of a class's `forward`.
  private enum UnitKind {
    case layer(Node)
    case structure(StructureTree)
    case loop(StructureTree)
  }

  private struct Unit {
    var kind: UnitKind
    /// The innermost written-in structure (body, branch ...) it belongs to, if any.
    var part: Group?
    var inputs: [Int]
    var output: Int
  }

  /// The value a node stands for: an identity passes its input's on.
  func source(_ id: Int) -> Int {
    var id = id
    while graph.nodes[id].op == .identity, let i = graph.nodes[id].inputs.first { id = i }
    return id
  }

  /// The values a structure reads from outside it, in the order it first reads them.
  func externals(_ range: ClosedRange<Int>) -> [Int] {
    var out: [Int] = []
    for id in range where graph.nodes[id].op != .identity {
      for i in graph.nodes[id].inputs {
        let v = source(i)
        if !range.contains(v) && !out.contains(v) { out.append(v) }
      }
    }
    if out.isEmpty { out.append(source(graph.nodes[range.lowerBound].inputs.first ?? 0)) }
    return out
  }

  /// The tree a class is written for: a structure that is one structure and nothing else
  /// (a repeat's copy of one residual) is that structure's class.
  func classTree(_ tree: StructureTree) -> StructureTree {
    var t = tree
    while t.group != nil, t.children.count == 1, t.children[0].isClass, t.children[0].group?.kind != .repeat,
      t.children[0].range == t.range
    {
      t = t.children[0]
    }
    return t
  }

  private func units(of tree: StructureTree, part: Group?, into out: inout [Unit]) {
    var next = tree.range.lowerBound
    func bare(upTo end: Int) {
      while next < end {
        let node = graph.nodes[next]
        if node.op != .identity {
          out.append(Unit(kind: .layer(node), part: part, inputs: node.inputs.map(source), output: node.id))
        }
        next += 1
      }
    }
    for child in tree.children {
      bare(upTo: child.range.lowerBound)
      if child.isClass {
        let kind: UnitKind = child.group?.kind == .repeat ? .loop(child) : .structure(child)
        out.append(Unit(kind: kind, part: part, inputs: externals(child.range), output: source(child.range.upperBound)))
      } else {
        units(of: child, part: child.group, into: &out)
      }
      next = child.range.upperBound + 1
    }
    bare(upTo: tree.range.upperBound + 1)
  }

  /// A name relative to the class of `tree`, as a Python attribute: the class's own prefix
  /// and a residual's `body.` left out, the other dots as `_`.
  func attribute(_ name: String, in tree: StructureTree) -> String {
    var local = Substring(name)
    if local.hasPrefix(tree.prefix) { local = local.dropFirst(tree.prefix.count) }
    if tree.group?.kind == .residual, local.hasPrefix("body.") { local = local.dropFirst(5) }
    return PythonNames.identifier(String(local.replacing(".", with: "_")))
  }

  /// Writes the class of `tree` (and those of its structures) and returns its name;
  /// `path` is where its instance sits in the network's module.
  mutating func writeClass(_ tree: StructureTree, path: [String], names preferred: [String], doc: String) throws(DiagnosticError)
    -> String
  {
    if tree.group?.kind == .moe, let mixture = try mixtureClass(tree, path: path) {
      return register(doc: doc, setup: mixture.setup, parameters: mixture.parameters, body: mixture.body, names: preferred)
    }
    var list: [Unit] = []
    units(of: tree, part: nil, into: &list)
    let inputs = tree.group == nil ? graph.allInputs.map(\.node) : externals(tree.range)
    let output = source(tree.range.upperBound)

    var attributes: Set<String> = []
    func claim(_ base: String) -> String {
      var a = base, k = 2
      while attributes.contains(a) {
        a = "\(base)_\(k)"
        k += 1
      }
      attributes.insert(a)
      return a
    }

    // Variables: a value takes over the name of an input that dies where it is made, else
    // the name of the part it belongs to (`body`, `branch1`) or of its layer.
    var lastUse: [Int: Int] = [:]
    for (i, u) in list.enumerated() { for v in u.inputs { lastUse[v] = i } }
    lastUse[output] = list.count
    var names: [Int: String] = [:]
    var madeIn: [Int: String] = [:]
    var live: Set<String> = []
    let parameters = tree.group == nil ? networkParameterNames() : parameterNames(inputs)
    for (v, n) in zip(inputs, parameters) {
      names[v] = n
      live.insert(n)
    }
    func fresh(_ base: String) -> String {
      var n = base, k = 2
      while live.contains(n) {
        n = "\(base)\(k)"
        k += 1
      }
      return n
    }

    var setup: [String] = []
    var body: [String] = []
    var returned = false
    for (i, u) in list.enumerated() {
      for v in Set(u.inputs) where lastUse[v] == i { live.remove(names[v]!) }
      // A part's chain keeps its own name: it takes over a dying input's only within the part.
      let dying = u.inputs.first { v in
        lastUse[v] == i && !live.contains(names[v]!) && (u.part == nil || madeIn[v] == u.part?.name)
      }
      func target(_ base: String) -> String {
        let n = dying.map { names[$0]! } ?? fresh(base)
        names[u.output] = n
        madeIn[u.output] = u.part?.name
        live.insert(n)
        return n
      }
      let partName = u.part.map { g in String(g.name.split(separator: ".").last ?? "h") }
      let args = u.inputs.map { names[$0]! }
      switch u.kind {
      case .layer(let node):
        let a = claim(attribute(node.name, in: tree))
        statePaths[node.id] = path + [a]
        let values = node.inputs.map { TorchValue(name: names[source($0)]!, layout: layouts[source($0)], rank: shapes[source($0)].count) }
        guard let code = try layers.layer(node, attribute: a, inputs: values) else { continue }
        setup += code.setup
        helpers.formUnion(code.helpers)
        if u.output == output && i == list.count - 1 {
          body.append("return \(code.expression)")
          returned = true
        } else {
          body.append("\(target(partName ?? (live.contains("x") ? "h" : "x"))) = \(code.expression)")
        }
      case .structure(let child):
        let a = claim(attribute(child.group!.name, in: tree))
        let inner = classTree(child)
        let cls = try writeClass(inner, path: path + [a], names: classNames(for: inner), doc: docString(inner))
        setup.append("self.\(a) = \(cls)()")
        let call = "self.\(a)(\(args.joined(separator: ", ")))"
        if u.output == output && i == list.count - 1 {
          body.append("return \(call)")
          returned = true
        } else {
          body.append("\(target(partName ?? (live.contains("x") ? "h" : "x"))) = \(call)")
        }
      case .loop(let repeatTree):
        let a = claim(attribute(repeatTree.group!.name, in: tree))
        var copyClasses: [String] = []
        var extras: [[Int]] = []
        for (k, copy) in repeatTree.children.enumerated() {
          let inner = classTree(copy)
          copyClasses.append(
            try writeClass(inner, path: path + [a, String(k)], names: classNames(for: inner), doc: docString(inner)))
          extras.append(Array(externals(copy.range).dropFirst()))
        }
        if Set(copyClasses).count == 1 {
          setup.append("self.\(a) = nn.ModuleList([\(copyClasses[0])() for _ in range(\(copyClasses.count))])")
        } else {
          setup.append("self.\(a) = nn.ModuleList([\(copyClasses.map { "\($0)()" }.joined(separator: ", "))])")
        }
        let input = names[u.inputs[0]]!
        let v = target(partName ?? (live.contains("x") ? "h" : "x"))
        if v != input { body.append("\(v) = \(input)") }
        if Set(extras).count == 1 {
          let more = extras[0].map { ", " + names[$0]! }.joined()
          body.append("for block in self.\(a):")
          body.append("    \(v) = block(\(v)\(more))")
        } else {
          for (k, e) in extras.enumerated() {
            body.append("\(v) = self.\(a)[\(k)](\(([v] + e.map { names[$0]! }).joined(separator: ", ")))")
          }
        }
      }
    }
    if !returned { body.append("return \(names[output] ?? "x")") }
    return register(doc: doc, setup: setup, parameters: parameters, body: body, names: preferred)
  }

  /// The names of a class's `forward` parameters for the values it reads: `x`, then each
  /// other value's layer name (`memory`).
  func parameterNames(_ inputs: [Int]) -> [String] {
    var out: [String] = []
    for (k, v) in inputs.enumerated() {
      var n = k == 0 ? "x" : PythonNames.identifier(String(graph.nodes[v].name.split(separator: ".").last ?? "memory"))
      while out.contains(n) { n += "_" }
      out.append(n)
    }
    return out
  }

  /// The names of the network's `forward` parameters: `x` for a spec of one input, else
  /// each input's name in the spec's order (`forward(self, src, tgt)`), so a caller passes
  /// them by the names the spec gives.
  func networkParameterNames() -> [String] {
    guard !graph.namedInputs.isEmpty else { return ["x"] }
    var out: [String] = []
    for input in graph.namedInputs {
      // Two names may spell one identifier (`a-b`, `a_b`): the later one gets a `_`.
      var n = PythonNames.identifier(input.name)
      while out.contains(n) { n += "_" }
      out.append(n)
    }
    return out
  }

  /// Records a class and returns its name; a class written alike before keeps its name.
  mutating func register(doc: String, setup: [String], parameters: [String], body: [String], names preferred: [String]) -> String {
    var text = "\(doc)\n" + setup.joined(separator: "\n") + "\n" + parameters.joined(separator: ", ") + "\n"
    text += body.joined(separator: "\n")
    if let known = classNames[text] { return known }
    var name = preferred.first { !usedClassNames.contains($0) } ?? preferred[0], k = 2
    while usedClassNames.contains(name) {
      name = preferred.last! + (preferred.last!.last!.isNumber ? "_" : "") + String(k)
      k += 1
    }
    usedClassNames.insert(name)
    classNames[text] = name
    let forward = ["def forward(self, \(parameters.joined(separator: ", "))):"] + body.map { "    " + $0 }
    records.append(ClassRecord(name: name, doc: doc, setup: setup, forward: forward))
    return name
  }

  /// A structure's class names to try, best first: its own name (`enc2` is `Enc2`; a
  /// repeat's copy is the repeat's `Block`), then with its path in front (`LayersAttention`).
  func classNames(for tree: StructureTree) -> [String] {
    guard let g = tree.group else { return [PythonNames.className(graph.name)] }
    let parts = g.name.split(separator: ".").filter { !$0.allSatisfy(\.isNumber) }.map(String.init)
    let suffix = g.kind == .copy ? "Block" : ""
    return (1...max(1, parts.count)).map { k in PythonNames.className(parts.suffix(k).joined(separator: ".")) + suffix }
  }

  /// A structure's docstring, the same for every instance written alike.
  func docString(_ tree: StructureTree) -> String {
    guard let g = tree.group else { return "" }
    switch g.kind {
    case .residual: return "A residual: its layers' output plus the input (or the shortcut's)."
    case .parallel: return "Branches that read the same input, merged."
    case .moe:
      return "A mixture of experts, routed as Mixtral's: each position's top experts, softmax-weighted."
    case .block: return "A block of the spec."
    case .copy: return "One copy of the repeat `\(g.name.split(separator: ".").dropLast().last ?? "")`."
    case .expert: return "One expert of a mixture: each expert is an instance with weights of its own."
    case .repeat, .body, .shortcut, .branch, .sepconv: return "Layers of the spec."
    }
  }
}
