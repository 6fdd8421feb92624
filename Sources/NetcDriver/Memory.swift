import NetcIR
import NetcPasses

/// The memory lines of a report: the weights' bytes and attention's KV cache at a storage
/// type. Shown when `--dtype` asks, and for every spec with attention (where the cache is
/// what decides whether a context fits).
enum Memory {
  /// The storage type to report in, or nil for none.
  static func storage(_ graph: Graph, requested: StorageType?) -> StorageType? {
    requested ?? (graph.layers.contains { $0.op == .attention } ? .fp32 : nil)
  }

  /// Whether the spec has a KV cache to report.
  static func hasCache(_ graph: Graph) -> Bool { graph.layers.contains { $0.op == .attention } }

  /// The elements of every parameter and buffer of `c`, or nil on overflow.
  static func weights(_ c: Cost) -> Int? {
    let (n, o) = c.params.addingReportingOverflow(c.buffers)
    return o ? nil : n
  }

  /// `n` elements in bytes, or nil on overflow (here or before: `n` nil).
  static func bytes(_ n: Int?, _ storage: StorageType) -> Int? {
    guard let n else { return nil }
    let (b, o) = n.multipliedReportingOverflow(by: storage.bytes)
    return o ? nil : b
  }

  /// `248,879,616 B (237.35 MiB) at fp16`.
  static func text(_ elements: Int?, _ storage: StorageType) -> String {
    guard let b = bytes(elements, storage) else { return "more than 2^63 B" }
    return "\(NumberFormat.grouped(b)) B" + (b >= 1024 ? " (\(NumberFormat.bytes(b)))" : "") + " at \(storage.rawValue)"
  }

  /// `248,879,616 B (237.35 MiB)`.
  static func bytesText(_ b: Int) -> String {
    "\(NumberFormat.grouped(b)) B" + (b >= 1024 ? " (\(NumberFormat.bytes(b)))" : "")
  }

  /// How far a planned arena is above the lower bound: `0.81% above the lower bound`.
  static func gap(_ peak: Int, over bound: Int) -> String {
    guard bound > 0, peak > bound else { return "at the lower bound" }
    let hundredths = Int((Double(peak - bound) / Double(bound) * 10000).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)% above the lower bound"
  }
}
