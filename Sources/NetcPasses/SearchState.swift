/// A state of the search between two layers: the shapes of the nodes still to be read, the
/// values of the vars still to be used, and the budget sums so far. States that agree on all
/// three have the same futures, so they merge: the state is a dictionary key, stored flat as
/// per live node its rank, its flags (1 elided, 2 token ids) and its extents, then the vars' values,
/// then the sums.
struct SearchState: Hashable {
  private var words: [Int] = []

  /// A state with no live node or var and these sums: the search's start.
  init(costs: [Int]) { words = costs }

  /// An empty state, to be filled in order: nodes, vars, sums.
  init() {}

  /// Appends a live node's shape (and whether it is elided).
  mutating func append(_ node: ResolvedNode) {
    words.append(node.shape.count)
    words.append((node.elided ? 1 : 0) | (node.tokens ? 2 : 0))
    words += node.shape
  }

  /// Appends a live var's value.
  mutating func append(value: Int) { words.append(value) }

  /// Appends the budget sums.
  mutating func append(costs: [Int]) { words += costs }

  /// The parts of a state filled with the nodes `liveNodes` (in that order) and `vars` var
  /// values: each node's shape by id, the values, the sums.
  func unpack(liveNodes: [Int], vars: Int) -> (nodes: [Int: ResolvedNode], values: ArraySlice<Int>, costs: [Int]) {
    var nodes: [Int: ResolvedNode] = [:]
    var pos = 0
    for id in liveNodes {
      let rank = words[pos], flags = words[pos + 1]
      var r = ResolvedNode(shape: Array(words[(pos + 2)..<(pos + 2 + rank)]), elided: flags & 1 != 0)
      r.tokens = flags & 2 != 0
      nodes[id] = r
      pos += 2 + rank
    }
    return (nodes, words[pos..<(pos + vars)], Array(words[(pos + vars)...]))
  }
}
