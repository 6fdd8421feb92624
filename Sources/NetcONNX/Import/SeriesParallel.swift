import NetcDiagnostics

/// A spec's layer list as a tree: plain layers, and the structures whose branches meet
/// at a merge layer.
indirect enum SpecItem {
  case layer(Int)
  /// `out = body(x) + shortcut(x)`; an empty shortcut is the identity.
  case residual(merge: Int, body: [SpecItem], shortcut: [SpecItem])
  /// Branches that read the same input, merged by the merge layer (concat, add or mul).
  case parallel(merge: Int, branches: [[SpecItem]])
  /// `- from: NAME`: the layers after it start at the input layer given (a second input's chain).
  case from(Int)
}

/// Finds the structures in a DAG of layers: from a layer with several readers to the
/// merge that post-dominates it, each path between them a branch. A graph that is not
/// series-parallel in this sense (a layer shared by two branches, a merge of tensors
/// from different forks) is an error.
struct SeriesParallel {
  let layers: [ImportedLayer]
  let path: String
  private var readers: [[Int]]
  private var placed: [Bool]

  init(_ layers: [ImportedLayer], path: String) {
    self.layers = layers
    self.path = path
    readers = Array(repeating: [], count: layers.count)
    for (i, l) in layers.enumerated() {
      for x in Set(l.inputs) { readers[x].append(i) }
    }
    placed = Array(repeating: false, count: layers.count)
  }

  /// The items from the input (layer 0) to `output`. A graph of several inputs is one
  /// chain per input, each from its input layer to the one layer of it that nothing reads
  /// but a cross-attention (an encoder's output), the output's chain last; every chain
  /// after the first starts with `.from` its input. The order is the inputs', so that a
  /// `cross` names a layer of an earlier chain.
  mutating func items(to output: Int) throws(DiagnosticError) -> [SpecItem] {
    let roots = layers.indices.filter { layers[$0].op == .input }
    guard roots.count > 1 else { return try sequence(from: 0, to: output, depth: 0) }
    var chainOf = [Int?](repeating: nil, count: layers.count)
    for (k, r) in roots.enumerated() { chainOf[r] = k }
    // Layers are in topological order: a layer's chain is its inputs'.
    for i in layers.indices where layers[i].op != .input {
      let chains = Set(layers[i].inputs.compactMap { chainOf[$0] })
      guard chains.count <= 1 else { throw tangled(i) }
      chainOf[i] = chains.first
    }
    guard let last = chainOf[output] else { throw tangled(output) }
    var ends: [Int] = []
    for (k, r) in roots.enumerated() where k != last {
      let sinks = layers.indices.filter { chainOf[$0] == k && readers[$0].isEmpty }
      guard sinks.count == 1, sinks[0] != r, layers.contains(where: { $0.cross == sinks[0] }) else {
        let what =
          sinks == [r]
          ? "is read by no layer (netc's specs read every input they name)"
          : sinks.count == 1
            ? "leads to `\(layers[sinks[0]].nodeName.prefix(80))`, which nothing reads"
            : "leads to \(sinks.count) layers that nothing reads"
        throw DiagnosticError([
          .error(
            .onnxUnsupported,
            "`\(path)`: the graph's input `\(layers[r].nodeName.prefix(80))` \(what); netc imports each input but the output's as one chain whose last layer a cross-attention reads (an encoder)",
            at: nil)
        ])
      }
      ends.append(sinks[0])
    }
    let order = roots.indices.filter { $0 != last } + [last]
    let endOf = Dictionary(uniqueKeysWithValues: zip(roots.indices.filter { $0 != last }, ends))
    // A cross-attention reads an earlier chain.
    let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
    for (i, l) in layers.enumerated() {
      guard let m = l.cross else { continue }
      guard let a = chainOf[i], let b = chainOf[m], a == b ? m < i : rank[b]! < rank[a]! else { throw tangled(i) }
    }
    var items: [SpecItem] = []
    for k in order {
      if k != order[0] { items.append(.from(roots[k])) }
      items += try sequence(from: roots[k], to: endOf[k] ?? output, depth: 0)
    }
    return items
  }

  /// How deep structures may nest (netc's own limit for specs).
  static let maxDepth = 100

  /// The items after `start` up to and including `end`; empty when they are the same.
  mutating func sequence(from start: Int, to end: Int, depth: Int) throws(DiagnosticError) -> [SpecItem] {
    if start == end { return [] }
    guard depth <= Self.maxDepth else {
      throw DiagnosticError([
        .error(
          .onnxUnsupported,
          "`\(path)`: the graph nests branches deeper than \(Self.maxDepth) structures, at node `\(layers[end].nodeName.prefix(80))`",
          at: nil)
      ])
    }
    let region = self.region(from: start, to: end)
    var ipdom: [Int: Int]?
    var items: [SpecItem] = []
    var cur = start
    while cur != end {
      let next = readers[cur].filter { region.contains($0) }
      guard !next.isEmpty else { throw tangled(cur) }
      if next.count == 1, layers[next[0]].inputs == [cur], !layers[next[0]].isMerge {
        try place(next[0])
        items.append(.layer(next[0]))
        cur = next[0]
        continue
      }
      // One post-dominator tree serves every fork of this sequence.
      if ipdom == nil { ipdom = postDominators(in: region, from: start, to: end) }
      let join = ipdom![cur] ?? end
      guard layers[join].isMerge else { throw tangled(cur) }
      var branches: [[SpecItem]] = []
      for x in layers[join].inputs { branches.append(try sequence(from: cur, to: x, depth: depth + 1)) }
      try place(join)
      if layers[join].op == .add && branches.count == 2 {
        let longer = count(branches[0]) >= count(branches[1]) ? 0 : 1
        items.append(.residual(merge: join, body: branches[longer], shortcut: branches[1 - longer]))
      } else {
        items.append(.parallel(merge: join, branches: branches))
      }
      cur = join
    }
    return items
  }

  mutating func place(_ i: Int) throws(DiagnosticError) {
    if placed[i] { throw tangled(i) }
    placed[i] = true
  }

  func count(_ items: [SpecItem]) -> Int {
    items.reduce(0) { n, item in
      switch item {
      case .layer: n + 1
      case .residual(_, let b, let s): n + 1 + count(b) + count(s)
      case .parallel(_, let bs): n + 1 + bs.reduce(0) { $0 + count($1) }
      case .from: n
      }
    }
  }

  /// The layers after `start` from which `end` is reached, `end` included.
  func region(from start: Int, to end: Int) -> Set<Int> {
    var seen: Set<Int> = [end]
    var stack = [end]
    while let n = stack.popLast() {
      for x in layers[n].inputs where x > start && !seen.contains(x) {
        seen.insert(x)
        stack.append(x)
      }
    }
    return seen
  }

  /// For `start` and each layer of `region`, the nearest layer after it that every path from it to
  /// `end` passes through (layers are in topological order, so a post-dominator has the
  /// larger index: Cooper, Harvey and Kennedy's intersection on a DAG).
  func postDominators(in region: Set<Int>, from start: Int, to end: Int) -> [Int: Int] {
    var ipdom: [Int: Int] = [end: end]
    func meet(_ a: Int, _ b: Int) -> Int {
      var (a, b) = (a, b)
      while a != b {
        if a < b { a = ipdom[a] ?? end } else { b = ipdom[b] ?? end }
      }
      return a
    }
    for n in region.sorted(by: >) where n != end {
      let next = readers[n].filter { region.contains($0) }
      ipdom[n] = next.dropFirst().reduce(next.first ?? end) { meet($0, $1) }
    }
    let next = readers[start].filter { region.contains($0) }
    ipdom[start] = next.dropFirst().reduce(next.first ?? end) { meet($0, $1) }
    return ipdom
  }

  func tangled(_ i: Int) -> DiagnosticError {
    DiagnosticError([
      .error(
        .onnxUnsupported,
        "`\(path)`: the graph around node `\(layers[i].nodeName.prefix(80))` does not split into netc's structures (a sequence, residual or parallel branches that meet in one merge)",
        at: nil)
    ])
  }
}
