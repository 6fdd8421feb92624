import NetcIR
import NetcPasses

/// `analyze` output for a spec with free vars: each figure an expression in them. The
/// table uses ⌊…⌋ and powers; JSON gives netc's own expression syntax (`(205 - k) // 3 + 1`)
/// as strings, so a value can be pasted into a spec, and plain numbers where constant.
enum SymbolicFormat {
  static func text(_ e: SymExpr?) -> String {
    guard let e else { return "?" }
    return grouped(e.pretty)
  }

  /// Numbers of five digits or more grouped by thousands, for reading: `123,532,032·T`.
  static func grouped(_ s: String) -> String {
    var out = "", digits = ""
    func flush() {
      out += digits.count >= 5 ? NumberFormat.groupedDigits(digits) : digits
      digits = ""
    }
    for c in s {
      if c.isASCII && c.isNumber {
        digits.append(c)
      } else {
        flush()
        out.append(c)
      }
    }
    flush()
    return out
  }

  /// `input SHAPE`, or `inputs src S tokens, tgt T tokens` for named inputs.
  static func inputText(_ a: SymbolicAnalysis) -> String {
    guard !a.graph.namedInputs.isEmpty else { return "input \(shape(a.nodes.first?.shape))\(a.graph.tokenInput ? " tokens" : "")" }
    return "inputs "
      + a.graph.namedInputs.map { "\($0.name) \(shape(a.nodes[$0.node].shape))\($0.tokens ? " tokens" : "")" }.joined(separator: ", ")
  }

  static func shape(_ s: [SymExpr]?) -> String {
    guard let s else { return "?" }
    return s.map { $0.constant.map(String.init) ?? "(" + $0.pretty + ")" }.joined(separator: "x")
  }

  static func table(_ a: SymbolicAnalysis, maxDepth: Int? = nil, storage requested: StorageType? = nil) -> String {
    var out =
      "\(a.graph.name): \(inputText(a)), output \(shape(a.totals.shape)), in terms of \(a.free.joined(separator: ", "))\n\n"
    var rows: [[String]] = [["layer", "op", "output", "params", "MACs"]]
    // A structure at `maxDepth` is one row: its figures summed, its output its last node's.
    var folded: [Int: Group] = [:]
    if let maxDepth {
      for g in a.graph.groups where g.depth == maxDepth && folded[g.nodes.lowerBound] == nil { folded[g.nodes.lowerBound] = g }
    }
    var skipUntil = 0
    for node in a.graph.layers {
      if node.id < skipUntil { continue }
      if let g = folded[node.id] {
        skipUntil = g.nodes.upperBound + 1
        func sum(_ get: (SymbolicNode) -> SymExpr?) -> SymExpr? {
          var total: SymExpr = .const(0)
          for id in g.nodes {
            guard let v = get(a.nodes[id]) else { return nil }
            total = .add(total, v)
          }
          return total.simplified
        }
        let params = sum(\.params), macs = sum(\.macs)
        rows.append([
          String(repeating: "  ", count: g.depth) + g.name, g.kind.rawValue, shape(a.nodes[g.nodes.upperBound].shape),
          params == .const(0) ? "-" : text(params), macs == .const(0) ? "-" : text(macs),
        ])
        continue
      }
      if let maxDepth, node.depth > maxDepth { continue }
      let n = a.nodes[node.id]
      if node.attributes.shortcutTarget != nil && n.params == .const(0) && n.shape != nil { continue }
      rows.append([
        String(repeating: "  ", count: node.depth) + node.name, node.op.mnemonic, shape(n.shape),
        n.params == .const(0) ? "-" : text(n.params), n.macs == .const(0) ? "-" : text(n.macs),
      ])
    }
    let widths = (0..<5).map { c in rows.map { $0[c].count }.max() ?? 0 }
    for (i, row) in rows.enumerated() {
      var line = ""
      for c in 0..<5 {
        line += (c == 0 ? "" : "  ") + row[c] + String(repeating: " ", count: widths[c] - row[c].count)
      }
      out += TableFormat.trimTrailing(line) + "\n"
      if i == 0 { out += String(repeating: "─", count: widths.reduce(0, +) + 8) + "\n" }
    }
    out += String(repeating: "─", count: widths.reduce(0, +) + 8) + "\n"
    var totals = [
      ("params", a.totals.params), ("buffers", a.totals.buffers), ("MACs", a.totals.macs), ("activations", a.totals.activations),
    ]
    let active = a.graph.layers.contains { $0.op == .router }
    if active {
      totals.insert(("active MACs", a.totals.activeMacs), at: 3)
      totals.insert(("active params", a.totals.activeParams), at: 1)
    }
    for (label, v) in totals {
      out += "total " + label + String(repeating: " ", count: (active ? 14 : 12) - label.count) + text(v) + "\n"
    }
    if let storage = Memory.storage(a.graph, requested: requested) {
      let m = memoryBytes(a, storage)
      var lines = [("weights", m.weights)]
      if Memory.hasCache(a.graph) { lines.append(("KV cache", m.kvCache)) }
      for (label, v) in lines {
        let suffix = " B at \(storage.rawValue)" + (label == "KV cache" ? ", one sequence" : "")
        out += "total " + label + String(repeating: " ", count: (active ? 14 : 12) - label.count) + text(v) + suffix + "\n"
      }
    }
    for line in Conventions.lines(a.graph) { out += "note: " + line + "\n" }
    return out
  }

  /// The weights' and the KV cache's bytes as expressions.
  static func memoryBytes(_ a: SymbolicAnalysis, _ storage: StorageType) -> (weights: SymExpr?, kvCache: SymExpr?) {
    let b = SymExpr.const(storage.bytes)
    let weights = a.totals.params.flatMap { p in a.totals.buffers.map { SymExpr.mul(.add(p, $0), b).simplified } }
    return (weights, a.totals.kvCache.map { SymExpr.mul($0, b).simplified })
  }

  static func json(_ a: SymbolicAnalysis, storage requested: StorageType? = nil) -> String {
    func value(_ e: SymExpr?) -> String {
      guard let e else { return "null" }
      return e.constant.map(String.init) ?? JSONFormat.string(e.simplified.description)
    }
    func array(_ s: [SymExpr]?) -> String {
      guard let s else { return "null" }
      return "[" + s.map(value).joined(separator: ", ") + "]"
    }
    let active = a.graph.layers.contains { $0.op == .router }
    func costs(_ n: SymbolicNode) -> String {
      if active {
        return
          "\"params\": \(value(n.params)), \"active_params\": \(value(n.activeParams)), \"buffers\": \(value(n.buffers)), \"macs\": \(value(n.macs)), \"active_macs\": \(value(n.activeMacs)), \"activations\": \(value(n.activations))"
      }
      return
        "\"params\": \(value(n.params)), \"buffers\": \(value(n.buffers)), \"macs\": \(value(n.macs)), \"activations\": \(value(n.activations))"
    }
    var out = "{\n  \"name\": \(JSONFormat.string(a.graph.name)),\n"
    out += "  \"vars\": [" + a.free.map(JSONFormat.string).joined(separator: ", ") + "],\n"
    out +=
      "  \"input\": \(array(a.nodes.first?.shape)),\n" + (a.graph.tokenInput ? "  \"input_kind\": \"tokens\",\n" : "")
      + (a.graph.namedInputs.isEmpty
        ? ""
        : "  \"inputs\": {"
          + a.graph.namedInputs.map {
            "\(JSONFormat.string($0.name)): {\"shape\": \(array(a.nodes[$0.node].shape)), \"kind\": \"\($0.tokens ? "tokens" : "tensor")\"}"
          }.joined(separator: ", ") + "},\n")
      + "  \"output\": \(array(a.totals.shape)),\n  \"layers\": ["
    var first = true
    for node in a.graph.layers {
      let n = a.nodes[node.id]
      if node.attributes.shortcutTarget != nil && n.params == .const(0) && n.shape != nil { continue }
      out += first ? "\n" : ",\n"
      first = false
      out +=
        "    {\"name\": \(JSONFormat.string(node.name)), \"op\": \(JSONFormat.string(node.op.mnemonic)), \"output\": \(array(n.shape)), "
        + costs(n) + "}"
    }
    out += first ? "],\n" : "\n  ],\n"
    out += "  \"totals\": {" + costs(a.totals)
    if let storage = Memory.storage(a.graph, requested: requested) {
      let m = memoryBytes(a, storage)
      out += ", \"dtype\": \"\(storage.rawValue)\", \"weight_bytes\": \(value(m.weights))"
      if Memory.hasCache(a.graph) { out += ", \"kv_cache_bytes\": \(value(m.kvCache))" }
    }
    out += "}"
    let conventions = Conventions.lines(a.graph)
    if !conventions.isEmpty { out += ",\n  \"conventions\": [" + conventions.map(JSONFormat.string).joined(separator: ", ") + "]" }
    return out + "\n}"
  }
}
