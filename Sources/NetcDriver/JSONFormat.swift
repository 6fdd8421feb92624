import NetcDiagnostics
import NetcONNX
import NetcPasses

/// JSON exactly as the spec language page defines it, keys in a fixed order.
enum JSONFormat {
  static func render(_ report: Report) -> String {
    var w = JSONWriter(capacity: 128 * report.rows.count + 512)
    write(report, to: &w, indent: "")
    return w.text
  }

  /// Writes one report, each line after the first prefixed with `indent`.
  static func write(_ report: Report, to w: inout JSONWriter, indent: StaticString) {
    w.raw("{\n"); w.raw(indent); w.raw("  \"name\": "); w.string(report.name)
    w.raw(",\n"); w.raw(indent); w.raw("  \"input\": "); w.array(report.input)
    if report.tokens { w.raw(",\n"); w.raw(indent); w.raw("  \"input_kind\": \"tokens\"") }
    if !report.namedInputs.isEmpty {
      w.raw(",\n"); w.raw(indent); w.raw("  \"inputs\": {")
      for (i, input) in report.namedInputs.enumerated() {
        w.raw(i == 0 ? "" : ", "); w.string(input.name); w.raw(": {\"shape\": "); w.array(input.shape)
        w.raw(", \"kind\": "); w.raw(input.tokens ? "\"tokens\"}" : "\"tensor\"}")
      }
      w.raw("}")
    }
    w.raw(",\n"); w.raw(indent); w.raw("  \"output\": "); w.array(report.output)
    if report.batch != 1 { w.raw(",\n"); w.raw(indent); w.raw("  \"batch\": "); w.int(report.batch) }
    w.raw(",\n"); w.raw(indent); w.raw("  \"layers\": [")
    var first = true
    for row in report.rows where row.isLeaf {
      w.raw(first ? "\n" : ",\n")
      first = false
      w.raw(indent); w.raw("    {\"name\": "); w.string(row.name)
      w.raw(", \"op\": "); w.string(row.op)
      w.raw(", \"output\": "); w.array(row.shape)
      w.raw(", "); costFields(row.cost, to: &w, active: report.hasActive)
      if let tied = row.tiedTo { w.raw(", \"tied_to\": "); w.string(tied) }
      if report.memoryRequested { w.raw(", \"live_bytes\": "); if let l = row.live { w.int(l) } else { w.raw("null") } }
      if report.trainingRequest != nil {
        for (key, value): (StaticString, Int?) in [
          ("\"saved_bytes\"", row.saved), ("\"backward_input_macs\"", row.backwardInput),
          ("\"backward_weight_macs\"", row.backwardWeights),
        ] {
          w.raw(", "); w.raw(key); w.raw(": ")
          if let value { w.int(value) } else { w.raw("null") }
        }
      }
      w.raw("}")
    }
    if first { w.raw("],\n") } else { w.raw("\n"); w.raw(indent); w.raw("  ],\n") }
    w.raw(indent); w.raw("  \"totals\": {"); costFields(report.totals, to: &w, active: report.hasActive)
    if let storage = report.storage {
      let t = report.totals
      w.raw(", \"dtype\": "); w.string(storage.rawValue)
      func bytes(_ n: Int?) {
        if let b = Memory.bytes(n, storage) { w.int(b) } else { w.raw("null") }
      }
      w.raw(", \"weight_bytes\": "); bytes(Memory.weights(t))
      if report.hasCache { w.raw(", \"kv_cache_bytes\": "); bytes(t.kvCache) }
    }
    w.raw("}")
    if report.memoryRequested { activationMemory(report, to: &w, indent: indent) }
    if report.trainingRequest != nil { trainingMemory(report, to: &w, indent: indent) }
    if !report.conventions.isEmpty {
      w.raw(",\n"); w.raw(indent); w.raw("  \"conventions\": [")
      for (i, line) in report.conventions.enumerated() {
        if i > 0 { w.raw(", ") }
        w.string(line)
      }
      w.raw("]")
    }
    if !report.unimported.isEmpty {
      w.raw(",\n"); w.raw(indent); w.raw("  \"unimported\": [")
      for (i, n) in report.unimported.enumerated() {
        w.raw(i == 0 ? "\n" : ",\n"); w.raw(indent)
        w.raw("    {\"node\": "); w.string(n.name)
        w.raw(", \"op\": "); w.string(n.opType)
        w.raw(", \"reason\": "); w.string(n.reason); w.raw("}")
      }
      w.raw("\n"); w.raw(indent); w.raw("  ]")
    }
    w.raw("\n"); w.raw(indent); w.raw("}")
  }

  /// The planned inference activations: the three totals, then every buffer with its
  /// offset and lifetime (steps are node positions, 0 the input).
  static func activationMemory(_ report: Report, to w: inout JSONWriter, indent: StaticString) {
    w.raw(",\n"); w.raw(indent); w.raw("  \"activation_memory\": ")
    guard let m = report.activations else {
      w.raw("null")
      return
    }
    w.raw("{\"dtype\": "); w.string(m.storage.rawValue)
    w.raw(", \"sum_bytes\": "); w.int(m.sum)
    w.raw(", \"lower_bound_bytes\": "); w.int(m.lowerBound)
    w.raw(", \"lower_bound_at\": "); w.string(report.nodeNames[m.lowerBoundStep])
    w.raw(", \"planned_bytes\": "); w.int(m.peak)
    w.raw(", \"planner\": \"greedy by size\", \"alignment\": "); w.int(m.alignment)
    w.raw(", \"tensors\": [")
    for (i, t) in m.tensors.enumerated() {
      w.raw(i == 0 ? "\n" : ",\n")
      w.raw(indent); w.raw("    {\"layer\": "); w.string(report.nodeNames[t.node])
      w.raw(", \"bytes\": "); w.int(t.lifetime.size)
      w.raw(", \"offset\": "); w.int(t.offset)
      w.raw(", \"steps\": ["); w.int(t.lifetime.first); w.raw(", "); w.int(t.lifetime.last)
      w.raw("], \"last_reader\": "); w.string(report.nodeNames[t.lifetime.last]); w.raw("}")
    }
    w.raw("\n"); w.raw(indent); w.raw("  ]}")
  }

  /// The `--train` totals: the step's memory in parts (each with its closed form in the
  /// batch where it grows with it), every saved storage, and the backward MACs.
  static func trainingMemory(_ report: Report, to w: inout JSONWriter, indent: StaticString) {
    w.raw(",\n"); w.raw(indent); w.raw("  \"training\": ")
    guard let t = report.training, let request = report.trainingRequest else {
      w.raw("null")
      return
    }
    func batchBytes(_ b: BatchBytes) {
      w.raw("{\"bytes\": ")
      if let n = b.at(batch: report.batch) { w.int(n) } else { w.raw("null") }
      w.raw(", \"per_example_bytes\": "); w.int(b.perExample)
      w.raw(", \"constant_bytes\": "); w.int(b.constant); w.raw("}")
    }
    w.raw("{\"optimizer\": "); w.string(t.optimizer.rawValue)
    w.raw(", \"mixed_precision\": "); if let m = request.mixed { w.string(m.rawValue) } else { w.raw("null") }
    w.raw(", \"dtype\": "); w.string(t.storage.rawValue)
    w.raw(", \"batch\": "); w.int(report.batch)
    w.raw(", \"weight_bytes\": "); w.int(t.weights)
    w.raw(", \"gradient_bytes\": "); w.int(t.gradients)
    w.raw(", \"optimizer_state_bytes\": "); w.int(t.optimizerState)
    w.raw(", \"master_copy_bytes\": "); w.int(t.masterCopy)
    w.raw(",\n"); w.raw(indent); w.raw("    \"saved_for_backward\": "); batchBytes(t.saved.total)
    w.raw(",\n"); w.raw(indent); w.raw("    \"step_bytes\": "); batchBytes(t.total)
    if let fit = report.fit {
      w.raw(", \"fit_bytes\": "); w.int(fit)
      w.raw(", \"largest_batch\": "); if let b = t.largestBatch(within: fit) { w.int(b) } else { w.raw("null") }
    }
    if let b = report.backward {
      w.raw(",\n"); w.raw(indent); w.raw("    \"backward_input_macs\": "); w.int(b.totalInput)
      w.raw(", \"backward_weight_macs\": "); w.int(b.totalWeights)
      w.raw(", \"step_macs\": "); w.int(b.step)
    }
    w.raw(",\n"); w.raw(indent); w.raw("    \"saved\": [")
    for (i, e) in t.saved.entries.enumerated() {
      w.raw(i == 0 ? "\n" : ",\n")
      w.raw(indent); w.raw("      {\"layer\": "); w.string(report.nodeNames[e.node])
      w.raw(", \"tensor\": "); w.string(e.what)
      w.raw(", \"per_example_bytes\": "); w.int(e.bytes.perExample)
      w.raw(", \"constant_bytes\": "); w.int(e.bytes.constant); w.raw("}")
    }
    w.raw("\n"); w.raw(indent); w.raw("    ]}")
  }

  static func costFields(_ c: Cost, to w: inout JSONWriter, active: Bool = false) {
    w.raw("\"params\": "); w.int(c.params)
    if active { w.raw(", \"active_params\": "); w.int(c.activeParams) }
    w.raw(", \"buffers\": "); w.int(c.buffers)
    w.raw(", \"macs\": "); w.int(c.macs)
    if active { w.raw(", \"active_macs\": "); w.int(c.activeMacs) }
    w.raw(", \"activations\": "); w.int(c.activations)
  }

  static func costFields(_ c: Cost) -> String {
    "\"params\": \(c.params), \"buffers\": \(c.buffers), \"macs\": \(c.macs), \"activations\": \(c.activations)"
  }

  static func array(_ values: [Int]) -> String {
    "[" + values.map(String.init).joined(separator: ", ") + "]"
  }

  /// A JSON string literal (NetcDiagnostics' escaping, shared by every JSON netc writes).
  static func string(_ s: String) -> String { jsonString(s) }

  /// Several reports as a JSON array.
  static func render(_ reports: [Report]) -> String {
    var w = JSONWriter()
    w.raw("[\n")
    for (i, report) in reports.enumerated() {
      if i > 0 { w.raw(",\n") }
      w.raw("  ")
      write(report, to: &w, indent: "  ")
    }
    w.raw("\n]")
    return w.text
  }
}

/// Totals of several specs side by side, with ratios to the first.
enum ComparisonFormat {
  /// One compared figure: its label, its JSON and CSV key, and its value in a report (nil
  /// when it does not fit in 63 bits).
  struct Metric {
    var label: String, key: String
    var value: (Report) -> Int?
  }

  /// The four counts; the active ones when a spec has a mixture of experts; the weights'
  /// and the KV cache's bytes when a spec reports memory (attention, or `--dtype`), all at
  /// the one storage type of the command.
  static func metrics(_ reports: [Report]) -> [Metric] {
    var out: [Metric] = [
      .init(label: "params", key: "params") { $0.totals.params },
      .init(label: "buffers", key: "buffers") { $0.totals.buffers },
      .init(label: "MACs", key: "macs") { $0.totals.macs },
      .init(label: "activations", key: "activations") { $0.totals.activations },
    ]
    if reports.contains(where: \.hasActive) {
      out.insert(.init(label: "active params", key: "active_params") { $0.totals.activeParams }, at: 1)
      out.insert(.init(label: "active MACs", key: "active_macs") { $0.totals.activeMacs }, at: 4)
    }
    if let storage = reports.compactMap(\.storage).first {
      out.append(
        .init(label: "weight bytes (\(storage.rawValue))", key: "weight_bytes") { Memory.bytes(Memory.weights($0.totals), storage) })
      if reports.contains(where: \.hasCache) {
        out.append(.init(label: "KV cache bytes (\(storage.rawValue))", key: "kv_cache_bytes") { Memory.bytes($0.totals.kvCache, storage) })
      }
    }
    return out
  }

  static func grouped(_ v: Int?) -> String { v.map(NumberFormat.grouped) ?? "more than 2^63" }

  static func ratio(_ v: Int?, over base: Int?) -> String {
    guard let v, let base else { return "-" }
    return NumberFormat.ratio(v, over: base)
  }

  static func table(_ reports: [Report]) -> String {
    var rows: [[String]] = [[""] + reports.map(\.name)]
    rows.append(["input"] + reports.map { TableFormat.comparedInput($0) })
    rows.append(["output"] + reports.map { TableFormat.shape($0.output) })
    for m in metrics(reports) {
      rows.append([m.label] + reports.map { grouped(m.value($0)) })
      if reports.count > 1 {
        rows.append(["  vs \(reports[0].name)"] + reports.map { ratio(m.value($0), over: m.value(reports[0])) })
      }
    }
    let columns = rows[0].count
    let widths = (0..<columns).map { c in rows.map { $0[c].count }.max() ?? 0 }
    // One command gives every report the same batch: said once, in the single report's words.
    var out = reports[0].batch != 1 ? "batch \(reports[0].batch) (MACs and activations are per batch)\n\n" : ""
    for row in rows {
      var line = row[0] + String(repeating: " ", count: widths[0] - row[0].count)
      for c in 1..<columns { line += "  " + String(repeating: " ", count: widths[c] - row[c].count) + row[c] }
      out += TableFormat.trimTrailing(line) + "\n"
    }
    return out
  }

  static func json(_ reports: [Report]) -> String {
    let all = metrics(reports)
    let extra = all.filter { !["params", "buffers", "macs", "activations"].contains($0.key) }
    func number(_ v: Int?) -> String { v.map(String.init) ?? "null" }
    func ratio(_ a: Int?, _ b: Int?) -> String {
      guard let a, let b, b != 0 else { return "null" }
      return String(Double(a) / Double(b))
    }
    let storage = reports.compactMap(\.storage).first
    let items = reports.map { r in
      "  {\"name\": \(JSONFormat.string(r.name)), \"input\": \(JSONFormat.array(r.input)), "
        + (r.namedInputs.isEmpty
          ? ""
          : "\"inputs\": {" + r.namedInputs.map { "\(JSONFormat.string($0.name)): \(JSONFormat.array($0.shape))" }.joined(separator: ", ")
            + "}, ")
        + "\"output\": \(JSONFormat.array(r.output)), "
        + (r.batch != 1 ? "\"batch\": \(r.batch), " : "")
        + "\"totals\": {\(JSONFormat.costFields(r.totals))"
        + extra.map { ", \"\($0.key)\": \(number($0.value(r)))" }.joined()
        + (storage.map { ", \"dtype\": \"\($0.rawValue)\"" } ?? "") + "}, \"ratios\": {"
        + all.map { "\"\($0.key)\": \(ratio($0.value(r), $0.value(reports[0])))" }.joined(separator: ", ") + "}}"
    }
    return "[\n" + items.joined(separator: ",\n") + "\n]"
  }

  static func markdown(_ reports: [Report]) -> String {
    var out = reports[0].batch != 1 ? "Batch \(reports[0].batch).\n\n" : ""
    out +=
      "| | " + reports.map { MarkdownFormat.escape($0.name) }.joined(separator: " | ") + " |\n|---|"
      + String(repeating: "---:|", count: reports.count) + "\n"
    out += "| input | " + reports.map { TableFormat.comparedInput($0) }.joined(separator: " | ") + " |\n"
    out += "| output | " + reports.map { TableFormat.shape($0.output) }.joined(separator: " | ") + " |\n"
    for m in metrics(reports) {
      out +=
        "| \(m.label) | "
        + reports.map { "\(grouped(m.value($0))) (\(ratio(m.value($0), over: m.value(reports[0]))))" }.joined(separator: " | ")
        + " |\n"
    }
    return out
  }

  static func csv(_ reports: [Report]) -> String {
    let all = metrics(reports)
    var out = "spec,input,output," + all.map(\.key).joined(separator: ",") + "\n"
    for r in reports {
      out +=
        ([CSVFormat.field(r.name), CSVFormat.field(TableFormat.comparedInput(r)), TableFormat.shape(r.output)]
        + all.map { $0.value(r).map(String.init) ?? "" }).joined(separator: ",") + "\n"
    }
    return out
  }
}
