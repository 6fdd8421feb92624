/// The table of `netc run --profile`: per fused step of the output pass, its median time,
/// its best time, its share of the steps' total (of medians) and, for convs and FCs,
/// GFLOP/s at the median (2 FLOPs per MAC). The best time is there for shared machines,
/// where a step's median moves by tens of percent between runs and its best far less:
/// comparing two builds, or netc against another runtime, step by step, needs it.
struct StepProfile {
  struct Row {
    /// The evaluated node's name and the names of the nodes fused into it.
    var name: String
    var fused: [String]
    /// The median and the smallest time of the step over the timed passes.
    var seconds: Double
    var best: Double
    var macs: Int
  }

  var rows: [Row]

  /// A fused node's name without the path it shares with the step's node:
  /// `stage.body.conv2` with `stage.body.bn2` and `stage.add` gives `bn2` and `add`.
  static func shortName(_ fused: String, of name: String) -> String {
    var common = 0
    for (i, (a, b)) in zip(fused, name).enumerated() {
      if a != b { break }
      if a == "." { common = i + 1 }
    }
    return String(fused.dropFirst(common))
  }

  /// The table, ending with the total of the steps.
  func table() -> String {
    let total = rows.reduce(0) { $0 + $1.seconds }, best = rows.reduce(0) { $0 + $1.best }
    var lines = [["step", "ms", "best", "share", "GFLOP/s", "layer"]]
    for (s, row) in rows.enumerated() {
      let rate = row.macs > 0 && row.seconds > 0 ? format1(2 * Double(row.macs) / row.seconds / 1e9) : "-"
      let share = total > 0 ? format1(100 * row.seconds / total) + "%" : "-"
      let fused = row.fused.map { Self.shortName($0, of: row.name) }
      lines.append(
        [
          String(s + 1), format3(row.seconds * 1000), format3(row.best * 1000), share, rate,
          row.name + (fused.isEmpty ? "" : " (+ \(fused.joined(separator: ", ")))"),
        ])
    }
    lines.append(["", format3(total * 1000), format3(best * 1000), "", "", "total of the steps"])
    let widths = (0..<5).map { c in lines.map { $0[c].count }.max()! }
    return lines.map { line in
      (0..<5).map { c in
        // Numbers right-aligned, the header's labels too.
        String(repeating: " ", count: widths[c] - line[c].count) + line[c]
      }.joined(separator: "  ") + "  " + line[5]
    }.joined(separator: "\n") + "\n"
  }
}
