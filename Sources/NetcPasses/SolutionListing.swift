extension Search {
  /// The first `max` solutions in lexicographic order of the vars (by layer, then
  /// declaration), walking kept transitions forward through states that reach the end.
  func list(max: Int) -> [[Int]] {
    let n = edges.count
    guard n == graph.nodes.count else { return [] }
    // Sort each layer's transitions by (prev, values) and index them by prev.
    var order: [[Int]] = []
    var starts: [[Int: Range<Int>]] = []
    for layer in edges {
      let w = layer.width
      let idx = layer.prev.indices.sorted { a, b in
        if layer.prev[a] != layer.prev[b] { return layer.prev[a] < layer.prev[b] }
        for t in 0..<w where layer.choices[a * w + t] != layer.choices[b * w + t] {
          return layer.choices[a * w + t] < layer.choices[b * w + t]
        }
        return false
      }
      var ranges: [Int: Range<Int>] = [:]
      var j = 0
      while j < idx.count {
        let p = Int(layer.prev[idx[j]])
        var k = j
        while k < idx.count && Int(layer.prev[idx[k]]) == p { k += 1 }
        ranges[p] = j..<k
        j = k
      }
      order.append(idx)
      starts.append(ranges)
    }
    // States that reach the end, from the last layer back.
    var alive: [Set<Int32>] = Array(repeating: [], count: n)
    alive[n - 1] = Set(edges[n - 1].next)
    for i in stride(from: n - 1, through: 1, by: -1) {
      var prev = Set<Int32>()
      for e in edges[i].prev.indices where alive[i].contains(edges[i].next[e]) { prev.insert(edges[i].prev[e]) }
      alive[i - 1] = prev
    }
    var out: [[Int]] = []
    var cursor = Array(repeating: 0, count: n)
    var end = Array(repeating: 0, count: n)
    var values: [[Int]] = Array(repeating: [], count: n)
    var layer = 0
    if let r = starts[0][0] { cursor[0] = r.lowerBound; end[0] = r.upperBound } else { return [] }
    while layer >= 0 && out.count < max {
      if cursor[layer] >= end[layer] {
        layer -= 1
        if layer >= 0 { cursor[layer] += 1 }
        continue
      }
      let e = order[layer][cursor[layer]]
      let next = edges[layer].next[e]
      guard alive[layer].contains(next) else {
        cursor[layer] += 1
        continue
      }
      let w = edges[layer].width
      values[layer] = Array(edges[layer].choices[(e * w)..<(e * w + w)])
      if layer == n - 1 {
        out.append(values.joined().map { $0 })
        cursor[layer] += 1
        continue
      }
      layer += 1
      if let r = starts[layer][Int(next)] {
        cursor[layer] = r.lowerBound; end[layer] = r.upperBound
      } else {
        cursor[layer] = 0; end[layer] = 0
      }
    }
    return out
  }
}
