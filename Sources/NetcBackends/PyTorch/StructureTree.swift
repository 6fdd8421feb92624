import NetcIR

/// The spec's structures as a tree over the graph's node ranges: the root is the whole
/// network, each child a structure (residual, repeat, block ...) inside its parent.
final class StructureTree {
  /// The structure; nil for the root.
  let group: Group?
  /// The node ids it spans.
  let range: ClosedRange<Int>
  /// Its structures, in node order.
  var children: [StructureTree] = []

  init(group: Group?, range: ClosedRange<Int>) {
    self.group = group
    self.range = range
  }

  /// The tree of a graph; groups that span no nodes (an empty branch) are left out.
  static func build(_ graph: Graph) -> StructureTree {
    let root = StructureTree(group: nil, range: 1...max(1, graph.outputID))
    let sorted = graph.groups.filter { !$0.nodes.isEmpty && $0.nodes.lowerBound >= 1 }.sorted {
      ($0.nodes.lowerBound, -$0.nodes.count, $0.depth) < ($1.nodes.lowerBound, -$1.nodes.count, $1.depth)
    }
    var stack = [root]
    for g in sorted {
      while stack.count > 1, !stack.last!.range.contains(g.nodes.lowerBound) || !stack.last!.range.contains(g.nodes.upperBound) {
        stack.removeLast()
      }
      let node = StructureTree(group: g, range: g.nodes)
      stack.last!.children.append(node)
      stack.append(node)
    }
    return root
  }

  /// The dotted name the names of its nodes start with (empty for the root).
  var prefix: String { group.map { $0.name + "." } ?? "" }

  /// Whether the structure becomes a class of its own; the others (a residual's body, a
  /// branch, a separable conv's two layers) are written into the class that holds them.
  var isClass: Bool {
    guard let kind = group?.kind else { return true }
    switch kind {
    case .residual, .parallel, .moe, .block, .copy, .repeat: return true
    case .body, .shortcut, .branch, .sepconv, .expert: return false
    }
  }
}
