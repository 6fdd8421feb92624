import NetcIR
import NetcPasses

/// The terminal report: a per-layer table and the totals.
enum TableFormat {
  /// The input's shape (`32x32x3`, `1024 tokens`), or each named input's (`src 7 tokens, tgt 5 tokens`).
  static func inputText(_ report: Report) -> String {
    if report.namedInputs.isEmpty { return shape(report.input) + (report.tokens ? " tokens" : "") }
    return report.namedInputs.map { "\($0.name) \(shape($0.shape))\($0.tokens ? " tokens" : "")" }.joined(separator: ", ")
  }

  /// The input column of `--compare`: the shape, or each named input's.
  static func comparedInput(_ report: Report) -> String {
    report.namedInputs.isEmpty ? shape(report.input) : inputText(report)
  }

  static func render(_ report: Report) -> String {
    var header = "\(report.name): \(report.namedInputs.isEmpty ? "input " : "inputs ")\(inputText(report)), output \(shape(report.output))"
    if report.batch != 1 { header += ", batch \(report.batch) (MACs and activations are per batch)" }
    let memory = report.memoryRequested
    let columns = memory ? 7 : 6
    var titles: [String] = ["layer", "op", "output", "params", "MACs"]
    if memory { titles.append("live memory") }
    titles.append("share of MACs")
    var table: [[String]] = [titles]
    for row in report.rows {
      let indent = String(repeating: "  ", count: row.depth)
      let share =
        row.cost.macs > 0
        ? bar(row.cost.macs, of: report.totals.macs) + " " + NumberFormat.percent(row.cost.macs, of: report.totals.macs) : ""
      var cells: [String] = [
        indent + row.localName, row.op, shape(row.shape),
        row.tiedTo.map { "= \($0)" } ?? (row.cost.params == 0 ? "-" : NumberFormat.scaled(row.cost.params)),
        row.cost.macs == 0 ? "-" : NumberFormat.scaled(row.cost.macs),
      ]
      if memory {
        let live: String = row.live.map { NumberFormat.bytes($0) } ?? "-"
        cells.append(live)
      }
      cells.append(share)
      table.append(cells)
    }
    let widths = (0..<columns).map { c in table.map { $0[c].count }.max() ?? 0 }
    let rightAligned: Set<Int> = memory ? [3, 4, 5] : [3, 4]
    var out = header + "\n\n"
    for (i, row) in table.enumerated() {
      var line = ""
      for c in 0..<columns {
        let cell = row[c]
        let pad = String(repeating: " ", count: widths[c] - cell.count)
        line += c == 0 ? "" : "  "
        line += rightAligned.contains(c) ? pad + cell : (c == columns - 1 ? cell : cell + pad)
      }
      out += trimTrailing(line) + "\n"
      if i == 0 { out += String(repeating: "─", count: widths.reduce(0, +) + 2 * columns - 2) + "\n" }
    }
    let t = report.totals
    out += String(repeating: "─", count: widths.reduce(0, +) + 2 * columns - 2) + "\n"
    let bytes = t.activations.multipliedReportingOverflow(by: 4)
    var labelled: [(String, String)] = [
      ("params", exactAndScaled(t.params)),
      ("buffers", exactAndScaled(t.buffers)),
      ("MACs", exactAndScaled(t.macs)),
      ("activations", exactAndScaled(t.activations) + (bytes.overflow ? "" : ", \(NumberFormat.bytes(bytes.partialValue)) at fp32")),
    ]
    if report.hasActive {
      labelled.insert(("active MACs", exactAndScaled(t.activeMacs)), at: 3)
      labelled.insert(("active params", exactAndScaled(t.activeParams)), at: 1)
    }
    if let storage = report.storage {
      labelled.append(("weights", Memory.text(Memory.weights(t), storage)))
      if report.hasCache {
        labelled.append(("KV cache", Memory.text(t.kvCache, storage) + (report.batch == 1 ? ", one sequence" : "")))
      }
    }
    if memory {
      if let m = report.activations {
        let at = " at \(m.storage.rawValue)"
        labelled.append(("activation memory, no reuse", Memory.bytesText(m.sum) + at))
        labelled.append(
          (
            "activation memory, lower bound",
            Memory.bytesText(m.lowerBound) + at + ", while '\(report.nodeNames[m.lowerBoundStep])' runs"
          ))
        labelled.append(
          (
            "activation memory, planned", Memory.bytesText(m.peak) + at + ", " + Memory.gap(m.peak, over: m.lowerBound)
          ))
      } else {
        labelled.append(("activation memory", "more than 2^63 B"))
      }
    }
    if report.trainingRequest != nil { labelled += trainingLines(report) }
    let labelWidth = memory || report.trainingRequest != nil ? 32 : report.hasActive ? 14 : 12
    for (label, value) in labelled {
      out += "total " + label + String(repeating: " ", count: labelWidth - label.count) + value + "\n"
    }
    for line in report.conventions { out += "note: " + line + "\n" }
    return out
  }

  /// The `--train` totals: saved for backward, gradients, optimizer state, master copy,
  /// the step's memory (with its closed form in the batch B), and the backward MACs.
  static func trainingLines(_ report: Report) -> [(String, String)] {
    guard let t = report.training, let request = report.trainingRequest else {
      return [("training memory", "more than 2^63 B")]
    }
    let batch = report.batch
    func closed(_ b: BatchBytes) -> String {
      guard let n = b.at(batch: batch) else { return "more than 2^63 B" }
      let form =
        b.perExample == 0
        ? "" : " = \(NumberFormat.grouped(b.perExample))·B" + (b.constant == 0 ? "" : " + \(NumberFormat.grouped(b.constant))")
      return Memory.bytesText(n) + " at batch \(batch)" + form
    }
    let kind = request.mixed.map { "\($0.rawValue) mixed precision" } ?? t.storage.rawValue
    var lines: [(String, String)] = [
      ("saved for backward", closed(t.saved.total) + " at \(t.storage.rawValue)"),
      ("weights (training)", Memory.bytesText(t.weights) + " at \(request.mixed?.rawValue ?? t.storage.rawValue)"),
      ("gradients", Memory.bytesText(t.gradients)),
      ("optimizer state (\(t.optimizer.rawValue))", Memory.bytesText(t.optimizerState)),
    ]
    if request.mixed != nil { lines.append(("fp32 master copy", Memory.bytesText(t.masterCopy))) }
    lines.append(("training step memory", closed(t.total) + ", \(kind)"))
    if let fit = report.fit {
      let largest = t.largestBatch(within: fit).map { NumberFormat.grouped($0) } ?? "any (the step does not grow with it)"
      lines.append(("largest batch within \(NumberFormat.bytes(fit))", largest))
    }
    if let b = report.backward {
      lines.append(("backward MACs, input gradients", exactAndScaled(b.totalInput)))
      lines.append(("backward MACs, weight gradients", exactAndScaled(b.totalWeights)))
      lines.append(("training step MACs", exactAndScaled(b.step) + " (forward + backward)"))
    }
    return lines
  }

  static func shape(_ s: [Int]) -> String { s.map(String.init).joined(separator: "x") }

  static func exactAndScaled(_ n: Int) -> String {
    n < 1000 ? String(n) : "\(NumberFormat.grouped(n)) (\(NumberFormat.scaled(n)))"
  }

  /// A bar of up to 20 cells, in eighths of a cell.
  static func bar(_ part: Int, of whole: Int) -> String {
    guard whole > 0 else { return "" }
    let eighths = Int((Double(part) / Double(whole) * 160).rounded())
    let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
    let text = String(repeating: "█", count: eighths / 8) + partial[eighths % 8]
    return (text.isEmpty ? "▏" : text) + String(repeating: " ", count: 20 - max(1, (eighths + 7) / 8))
  }

  static func trimTrailing(_ s: String) -> String {
    var s = Substring(s)
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}

/// The same table in GitHub-flavoured Markdown.
enum MarkdownFormat {
  static func render(_ report: Report) -> String {
    var out = "### \(escape(report.name))\n\n"
    out +=
      (report.namedInputs.isEmpty
        ? "Input `\(TableFormat.shape(report.input))`"
        : "Inputs "
          + report.namedInputs.map { "`\($0.name)` `\(TableFormat.shape($0.shape))\($0.tokens ? " tokens" : "")`" }.joined(separator: ", "))
      + ", output `\(TableFormat.shape(report.output))`"
    out += report.batch != 1 ? ", batch \(report.batch).\n\n" : ".\n\n"
    out += "| layer | op | output | params | MACs | share of MACs |\n|---|---|---|---:|---:|---:|\n"
    for row in report.rows {
      let indent = String(repeating: "&nbsp;&nbsp;", count: row.depth)
      let name = row.isGroup ? "**\(escape(row.localName))**" : escape(row.localName)
      out +=
        "| \(indent)\(name) | \(row.op) | \(TableFormat.shape(row.shape)) | \(NumberFormat.grouped(row.cost.params)) | \(NumberFormat.grouped(row.cost.macs)) | \(row.cost.macs > 0 ? NumberFormat.percent(row.cost.macs, of: report.totals.macs) : "") |\n"
    }
    let t = report.totals
    out += "\n| total | |\n|---|---:|\n"
    out += "| params | \(NumberFormat.grouped(t.params)) |\n| buffers | \(NumberFormat.grouped(t.buffers)) |\n"
    out += "| MACs | \(NumberFormat.grouped(t.macs)) |\n| activations | \(NumberFormat.grouped(t.activations)) |\n"
    if report.hasActive {
      out += "| active params | \(NumberFormat.grouped(t.activeParams)) |\n| active MACs | \(NumberFormat.grouped(t.activeMacs)) |\n"
    }
    if let storage = report.storage {
      out += "| weights | \(Memory.text(Memory.weights(t), storage)) |\n"
      if report.hasCache { out += "| KV cache | \(Memory.text(t.kvCache, storage))\(report.batch == 1 ? ", one sequence" : "") |\n" }
    }
    if report.memoryRequested {
      if let m = report.activations {
        out += "| activation bytes, no reuse (\(m.storage.rawValue)) | \(NumberFormat.grouped(m.sum)) |\n"
        out += "| activation bytes, lower bound | \(NumberFormat.grouped(m.lowerBound)) |\n"
        out += "| activation bytes, planned | \(NumberFormat.grouped(m.peak)) |\n"
      } else {
        out += "| activation bytes | more than 2^63 |\n"
      }
    }
    return out
  }

  static func escape(_ s: String) -> String {
    var out = ""
    for c in s {
      if "|\\*_`<>[]".contains(c) { out.append("\\") }
      out.append(c)
    }
    return out
  }
}

/// One row per layer, for spreadsheets; every spec's rows carry its name.
enum CSVFormat {
  static let header = "spec,name,op,depth,output,params,buffers,macs,activations\n"

  /// The columns after the four counts, the same for every report of one command:
  /// `active_params,active_macs` when a spec has a mixture of experts, `weight_bytes` and
  /// `kv_cache_bytes` (at the command's storage type) when a spec reports memory, and
  /// `live_bytes` with `--memory` (the total row's is the planned arena).
  struct Columns {
    var active: Bool, storage: StorageType?, cache: Bool, memory: Bool

    init(_ reports: [Report], memory: Bool) {
      active = reports.contains(where: \.hasActive)
      storage = reports.compactMap(\.storage).first
      cache = storage != nil && reports.contains(where: \.hasCache)
      self.memory = memory
    }

    var header: String {
      var keys: [String] = []
      if active { keys += ["active_params", "active_macs"] }
      if storage != nil { keys.append("weight_bytes") }
      if cache { keys.append("kv_cache_bytes") }
      if memory { keys.append("live_bytes") }
      return CSVFormat.header.dropLast() + keys.map { "," + $0 }.joined() + "\n"
    }

    func fields(_ c: Cost, live: Int?) -> String {
      var out: [String] = []
      if active { out += [String(c.activeParams), String(c.activeMacs)] }
      if let storage {
        out.append(Memory.bytes(Memory.weights(c), storage).map(String.init) ?? "")
        if cache { out.append(Memory.bytes(c.kvCache, storage).map(String.init) ?? "") }
      }
      if memory { out.append(live.map(String.init) ?? "") }
      return out.map { "," + $0 }.joined()
    }
  }

  static func render(_ report: Report, _ columns: Columns) -> String {
    var out = ""
    for row in report.rows where row.isLeaf {
      out +=
        [
          field(report.name), field(row.name), row.op, String(row.depth), TableFormat.shape(row.shape),
          String(row.cost.params), String(row.cost.buffers), String(row.cost.macs), String(row.cost.activations),
        ].joined(separator: ",") + columns.fields(row.cost, live: row.live) + "\n"
    }
    out +=
      [
        field(report.name), "total", "", "", TableFormat.shape(report.output), String(report.totals.params),
        String(report.totals.buffers), String(report.totals.macs), String(report.totals.activations),
      ].joined(separator: ",") + columns.fields(report.totals, live: report.activations?.peak) + "\n"
    return out
  }

  /// RFC 4180 quoting where a field needs it.
  static func field(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
  }
}

extension String {
  func replacingAll(_ target: Character, with replacement: String) -> String {
    var out = ""
    for c in self { if c == target { out += replacement } else { out.append(c) } }
    return out
  }
}
