import NetcIR

/// A picture of a network laid out top to bottom: boxes with integer coordinates (so the
/// same spec gives the same bytes) and the edges between them, routed.
struct GraphLayout {
  /// A drawn box: a layer, a structure folded into one box, or a structure's frame.
  struct Box {
    enum Kind: Equatable {
      case layer(Int)
      case folded(Int)
      case structure(Int)
    }
    var kind: Kind
    var x = 0, y = 0, width = 0, height = 0
    /// `× N` for a repeat drawn once.
    var copies: Int?
    var bottom: Int { y + height }
    var centerX: Int { x + width / 2 }
  }

  /// A drawn edge: the tensor from `from`'s box to `to`'s, as a path through `points`
  /// (`curve` bends between the middle two).
  struct Edge {
    var from: Int, to: Int
    var path: String
  }

  var boxes: [Box] = []
  var edges: [Edge] = []
  /// The shape under each box that sends a tensor on (one label per tensor).
  var labels: [(x: Int, y: Int, box: Int)] = []
  var width = 0, height = 0
  /// Per node: the box that stands for it (a repeat's frame for its copies not drawn).
  var nodeBox: [Int] = []
  /// Per group: its frame or folded box, or -1.
  var groupBox: [Int] = []
  /// The groups in the order the tree uses them.
  var groups: [Group] = []

  static let nodeWidth = 210, nodeHeight = 50, gapV = 30, gapH = 20, pad = 10, header = 20, lane = 24

  /// One item of a structure's contents.
  enum Item {
    case layer(Int)
    case group(Int)
  }

  /// An empty picture, for the builder to fill.
  fileprivate init() {}

  /// Lays out `graph`: structures deeper than `depth` fold into one box; a repeat is drawn
  /// once with `× N` unless `expand`. Linear in nodes and groups.
  init(_ graph: Graph, hidden: [Bool], depth: Int?, expand: Bool) {
    var builder = LayoutBuilder(graph: graph, hidden: hidden, depth: depth, expand: expand)
    builder.build()
    self = builder.layout
  }
}

/// The state of one layout: the structure tree, sizes, then positions, then edges.
private struct LayoutBuilder {
  typealias L = GraphLayout
  let graph: Graph
  let hidden: [Bool]
  let depth: Int?
  let expand: Bool
  var layout = GraphLayout()
  var children: [[L.Item]] = []
  var root: [L.Item] = []
  var size: [(w: Int, h: Int)] = []
  /// Per group: whether its merge takes an edge from outside, routed down its right side.
  var hasLane: [Bool] = []
  /// Per node: the box that stands for it, or -1 for a node not drawn at all.
  var rep: [Int]
  /// Per node: whether it is drawn (edges into undrawn copies of a repeat are left out).
  var drawn: [Bool]
  /// Per merge node with a lane: the lane's x and the group's first node.
  var laneOf: [Int: (x: Int, first: Int)] = [:]

  init(graph: Graph, hidden: [Bool], depth: Int?, expand: Bool) {
    self.graph = graph
    self.hidden = hidden
    self.depth = depth
    self.expand = expand
    rep = Array(repeating: -1, count: graph.nodes.count)
    drawn = Array(repeating: false, count: graph.nodes.count)
  }

  /// The node whose tensor `id` passes on: an elided identity placeholder is its input's.
  func resolve(_ id: Int) -> Int {
    var i = id
    while hidden[i], let first = graph.nodes[i].inputs.first, first < i { i = first }
    return i
  }

  mutating func build() {
    // Outermost first among groups starting at one node; a stack nests them in one pass.
    layout.groups = graph.groups.sorted {
      ($0.nodes.lowerBound, -$0.nodes.upperBound, $0.depth) < ($1.nodes.lowerBound, -$1.nodes.upperBound, $1.depth)
    }
    let groups = layout.groups
    children = Array(repeating: [], count: groups.count)
    hasLane = Array(repeating: false, count: groups.count)
    var stack: [Int] = []
    var next = 0
    for id in 1..<graph.nodes.count {
      while let top = stack.last, groups[top].nodes.upperBound < id { stack.removeLast() }
      while next < groups.count, groups[next].nodes.lowerBound < id { next += 1 }
      while next < groups.count, groups[next].nodes.lowerBound == id {
        let g = next
        next += 1
        if groups[g].nodes.allSatisfy({ hidden[$0] }) { continue }
        // A repeat's copy that is just one block draws as the block: its frame would
        // only repeat the repeat's and narrow the picture.
        if let p = stack.last, groups[p].kind == .copy, groups[p].nodes == groups[g].nodes, groups[p].depth != depth {
          stack.removeLast()
          if let grand = stack.last { children[grand][children[grand].count - 1] = .group(g) } else { root[root.count - 1] = .group(g) }
          stack.append(g)
          continue
        }
        append(.group(g), to: stack.last)
        stack.append(g)
      }
      if !hidden[id] { append(.layer(id), to: stack.last) }
    }
    // A residual or parallel whose only drawn lane is its body or one branch (the other
    // is the identity) draws that lane's layers in its own frame: the lane's frame would
    // only repeat it and narrow the picture (U-Net nests one per level).
    for (g, group) in groups.enumerated() where group.kind == .residual || group.kind == .parallel {
      let lanes = children[g].filter { Self.isLane($0, groups) }
      if lanes.count == 1, case .group(let b) = lanes[0], groups[b].kind == .body || groups[b].kind == .branch, !isFolded(b),
        !isFolded(g)
      {
        children[g] = children[g].flatMap { item -> [L.Item] in
          if case .group(b) = item { return children[b] }
          return [item]
        }
      }
    }
    for (g, group) in groups.enumerated() where group.kind == .residual || group.kind == .parallel || group.kind == .moe {
      let merge = group.nodes.upperBound
      hasLane[g] = graph.nodes[merge].inputs.contains { resolve($0) < group.nodes.lowerBound }
    }
    size = Array(repeating: (0, 0), count: groups.count)
    layout.groupBox = Array(repeating: -1, count: groups.count)
    for item in root { _ = measure(item) }
    let content = stackSize(root)
    // The input's box sits on top.
    let inputBox = L.Box(kind: .layer(0), x: 0, y: 0, width: L.nodeWidth, height: L.nodeHeight)
    let width = max(content.w, L.nodeWidth)
    layout.boxes.append(inputBox)
    layout.boxes[0].x = (width - L.nodeWidth) / 2 + L.pad
    rep[0] = 0
    drawn[0] = true
    placeStack(root, x: L.pad, y: L.nodeHeight + L.gapV, width: width)
    layout.width = width + 2 * L.pad
    layout.height = L.nodeHeight + L.gapV + content.h + L.gapV
    route()
    layout.nodeBox = rep
  }

  mutating func append(_ item: L.Item, to parent: Int?) {
    if let parent { children[parent].append(item) } else { root.append(item) }
  }

  func isFolded(_ g: Int) -> Bool { layout.groups[g].depth == depth }

  /// The items of group `g` that are drawn: a repeat's first copy only, unless expanded,
  /// and that copy's items in the repeat's frame (a frame for the copy would only say
  /// what the repeat's "× N" says).
  func shown(_ g: Int) -> ArraySlice<L.Item> {
    let items = children[g]
    if layout.groups[g].kind == Group.Kind.repeat && !expand {
      if case .group(let c)? = items.first, layout.groups[c].kind == .copy, !isFolded(c) { return children[c][...] }
      return items.prefix(1)
    }
    return items[...]
  }

  static func isLane(_ item: L.Item, _ groups: [Group]) -> Bool {
    guard case .group(let g) = item else { return false }
    switch groups[g].kind {
    case .body, .shortcut, .branch, .expert: return true
    case .residual, .parallel, .repeat, .copy, .block, .sepconv, .moe: return false
    }
  }

  /// Consecutive branches go side by side; everything else goes down.
  func segments(_ items: ArraySlice<L.Item>) -> [ArraySlice<L.Item>] {
    var out: [ArraySlice<L.Item>] = []
    var i = items.startIndex
    while i < items.endIndex {
      var j = i + 1
      if Self.isLane(items[i], layout.groups) {
        while j < items.endIndex, Self.isLane(items[j], layout.groups) { j += 1 }
      }
      out.append(items[i..<j])
      i = j
    }
    return out
  }

  mutating func measure(_ item: L.Item) -> (w: Int, h: Int) {
    guard case .group(let g) = item else { return (L.nodeWidth, L.nodeHeight) }
    if isFolded(g) {
      size[g] = (L.nodeWidth, L.nodeHeight)
      return size[g]
    }
    for child in shown(g) { _ = measure(child) }
    let content = stackSize(shown(g))
    let labelWidth = GraphText.width(GraphText.structureLabel(layout.groups[g], copies: copies(g)), size: 11) + 2 * L.pad
    size[g] = (
      max(content.w + 2 * L.pad + (hasLane[g] ? L.lane : 0), labelWidth), content.h + L.header + 2 * L.pad - L.pad / 2
    )
    return size[g]
  }

  func copies(_ g: Int) -> Int? {
    layout.groups[g].kind == Group.Kind.repeat ? children[g].count : nil
  }

  func itemSize(_ item: L.Item) -> (w: Int, h: Int) {
    if case .group(let g) = item { return size[g] }
    return (L.nodeWidth, L.nodeHeight)
  }

  func stackSize(_ items: ArraySlice<L.Item>) -> (w: Int, h: Int) {
    var w = 0, h = 0
    for (i, seg) in segments(items).enumerated() {
      let s = segmentSize(seg)
      w = max(w, s.w)
      h += s.h + (i == 0 ? 0 : L.gapV)
    }
    return (w, h)
  }

  func stackSize(_ items: [L.Item]) -> (w: Int, h: Int) { stackSize(items[...]) }

  func segmentSize(_ seg: ArraySlice<L.Item>) -> (w: Int, h: Int) {
    var w = 0, h = 0
    for (i, item) in seg.enumerated() {
      let s = itemSize(item)
      w += s.w + (i == 0 ? 0 : L.gapH)
      h = max(h, s.h)
    }
    return (w, h)
  }

  mutating func placeStack(_ items: [L.Item], x: Int, y: Int, width: Int) { placeStack(items[...], x: x, y: y, width: width) }

  mutating func placeStack(_ items: ArraySlice<L.Item>, x: Int, y: Int, width: Int) {
    var top = y
    for seg in segments(items) {
      let s = segmentSize(seg)
      var left = x + (width - s.w) / 2
      for item in seg {
        place(item, x: left, y: top)
        left += itemSize(item).w + L.gapH
      }
      top += s.h + L.gapV
    }
  }

  mutating func place(_ item: L.Item, x: Int, y: Int) {
    switch item {
    case .layer(let id):
      rep[id] = layout.boxes.count
      drawn[id] = true
      layout.boxes.append(L.Box(kind: .layer(id), x: x, y: y, width: L.nodeWidth, height: L.nodeHeight))
    case .group(let g):
      let group = layout.groups[g]
      let (w, h) = size[g]
      let index = layout.boxes.count
      layout.groupBox[g] = index
      if isFolded(g) {
        layout.boxes.append(L.Box(kind: .folded(g), x: x, y: y, width: w, height: h, copies: copies(g)))
        for id in group.nodes {
          rep[id] = index
          drawn[id] = true
        }
        return
      }
      layout.boxes.append(L.Box(kind: .structure(g), x: x, y: y, width: w, height: h, copies: expand ? nil : copies(g)))
      // The copies not drawn send their tensors on from the repeat's frame.
      for id in group.nodes { rep[id] = index }
      let inner = w - 2 * L.pad - (hasLane[g] ? L.lane : 0)
      placeStack(shown(g), x: x + L.pad, y: y + L.header, width: inner)
      if hasLane[g] { laneOf[group.nodes.upperBound] = (x + w - L.lane / 2 - 2, group.nodes.lowerBound) }
    }
  }

  mutating func route() {
    var seen = Set<Int>()
    var sources = Set<Int>()
    var incoming = Array(repeating: 0, count: layout.boxes.count)
    var pairs: [(Int, Int, Int)] = []  // (from box, to box, to node)
    for node in graph.layers where drawn[node.id] && !hidden[node.id] {
      let d = rep[node.id]
      for input in node.inputs {
        let s = rep[resolve(input)]
        guard s >= 0, s != d, seen.insert(s &* layout.boxes.count &+ d).inserted else { continue }
        pairs.append((s, d, node.id))
        incoming[d] += 1
      }
    }
    for (s, d, id) in pairs {
      let a = layout.boxes[s], b = layout.boxes[d]
      let (sx, sy, dx, dy) = (a.centerX, a.bottom, b.centerX, b.y)
      var path: String
      if let lane = laneOf[id], sourceNode(s) < lane.first {
        path = "M\(sx) \(sy)V\(sy + L.gapV * 2 / 3)H\(lane.x)V\(dy - 12)H\(dx)V\(dy)"
      } else if sx == dx {
        path = "M\(sx) \(sy)V\(dy)"
      } else {
        // Fan-in bends just above the merge, fan-out just below the source.
        let fanIn = incoming[d] > 1
        // Fan-out leaves a short stub first, beside which the shape's label sits.
        let b0: Int = fanIn ? max(sy, dy - L.gapV) : min(dy, sy + 15)
        let b1: Int = fanIn ? dy : min(dy, sy + L.gapV)
        let mid: Int = (b0 + b1) / 2
        path = "M\(sx) \(sy)V\(b0)C\(sx) \(mid) \(dx) \(mid) \(dx) \(b1)V\(dy)"
      }
      layout.edges.append(GraphLayout.Edge(from: s, to: d, path: path))
      sources.insert(s)
    }
    // A label per tensor, under the box that makes it; the last box's is the output.
    if let last = layout.boxes.indices.last(where: { if case .structure = layout.boxes[$0].kind { return false } else { return true } }) {
      sources.insert(last)
    }
    for s in sources.sorted() {
      let a = layout.boxes[s]
      layout.labels.append((a.centerX + 5, a.bottom + 12, s))
    }
  }

  /// The first node a box stands for (the layer's, or the structure's first).
  func sourceNode(_ box: Int) -> Int {
    switch layout.boxes[box].kind {
    case .layer(let id): return id
    case .folded(let g), .structure(let g): return layout.groups[g].nodes.lowerBound
    }
  }
}
