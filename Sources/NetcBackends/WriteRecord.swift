/// What a recorded output pass wrote into its arena, and whether any value it read had
/// been overwritten since it was written: the check that the planner's offsets and
/// lifetimes are the pass's own (`run --memory`).
struct WriteRecord {
  /// The writes in order, in elements.
  var writes: [WorkspaceUsage.Write] = []
  /// Reads whose value another write had reached first.
  var overwritten = 0
  /// Per node, the index in `writes` of the write holding its value (-1: outside the arena).
  private var holding: [Int]
  /// The values the current step reads, except one it writes over, and that one.
  private var reading: [Int] = [], over: Int?

  init(count: Int) { holding = Array(repeating: -1, count: count) }

  /// `node` holds `source`'s value.
  mutating func alias(_ node: Int, of source: Int) { holding[node] = holding[source] }

  /// Step `step` reads `nodes`; `over` is the one whose buffer it writes its value into.
  mutating func read(_ nodes: [Int], at step: Int, over: Int?) {
    reading = nodes.filter { $0 != over }
    self.over = over
    for i in nodes where holding[i] >= 0 {
      writes[holding[i]].lastRead = max(writes[holding[i]].lastRead, step)
      let w = writes[holding[i]]
      if writes[(holding[i] + 1)...].contains(where: { $0.step < step && overlaps($0, w) }) { overwritten += 1 }
    }
  }

  /// Step `step` writes `node`'s value: the values it reads must lie elsewhere.
  mutating func write(_ node: Int, offset: Int, count: Int, at step: Int) {
    let w = WorkspaceUsage.Write(node: node, offset: offset, count: count, step: step, lastRead: step)
    for i in reading where holding[i] >= 0 && overlaps(writes[holding[i]], w) { overwritten += 1 }
    // The value written over lives on in the new one's bytes: not both at this step.
    if let over, holding[over] >= 0 { writes[holding[over]].lastRead = step - 1 }
    holding[node] = writes.count
    writes.append(w)
  }

  private func overlaps(_ a: WorkspaceUsage.Write, _ b: WorkspaceUsage.Write) -> Bool {
    a.offset < b.offset + b.count && b.offset < a.offset + a.count
  }
}
