import NetcBackends
import NetcPasses

/// What `run` reports, in order: the output, the loss, gradients and the trace.
struct RunResult<T: TensorScalar> {
  var output: Tensor<T>
  var loss: (name: String, value: T)?
  var gradients: [(String, Tensor<T>)] = []
  var trace: [(String, Tensor<T>)] = []
  /// With `--memory`: what the output pass's workspace took.
  var workspace: WorkspaceReport?

  init(output: Tensor<T>) { self.output = output }

  /// The JSON object the spec language page shows, in pieces of about a megabyte: GPT-2's
  /// logits at T = 1024 are 51 million numbers, whose text would otherwise be held whole,
  /// and copied, before any of it is written.
  func writeJSON(_ write: @escaping (String) -> Void) {
    let out = TextSink(limit: 1 << 20, write)
    out.append("{\n  \"output\": ")
    nested(output, json: true, into: out)
    if let loss { out.append(",\n  \"loss\": " + number(loss.value, json: true)) }
    func object(_ key: String, _ items: [(String, Tensor<T>)]) {
      out.append(",\n  \"\(key)\": {\n")
      for (i, (name, t)) in items.enumerated() {
        out.append((i > 0 ? ",\n" : "") + "    \(JSONFormat.string(name)): ")
        nested(t, json: true, into: out)
      }
      out.append("\n  }")
    }
    if !gradients.isEmpty { object("gradients", gradients) }
    if !trace.isEmpty { object("trace", trace) }
    if let workspace { out.append(",\n  \"workspace\": " + workspace.json) }
    out.append("\n}\n")
    out.flush()
  }

  /// A readable report: each tensor under a heading with its shape.
  func text() -> String {
    func block(_ name: String, _ t: Tensor<T>, level: Int = 0) -> String {
      let shape = t.shape.isEmpty ? "scalar" : t.shape.map(String.init).joined(separator: "x")
      // A one-channel image reads best as the matrix it is.
      var shown = t
      var note = ""
      if t.shape.count == 3 && t.shape[2] == 1 {
        shown = Tensor(shape: Array(t.shape.prefix(2)), data: t.data)
        note = ", shown as \(t.shape[0])x\(t.shape[1])"
      }
      let pad = String(repeating: "  ", count: level)
      return pad + "\(name) (\(shape)\(note)):\n" + indent(nested(shown, json: false, pretty: true), pad + "  ") + "\n"
    }
    var out = block("output", output)
    if let loss { out += "loss (\(loss.name)): \(number(loss.value, json: false))\n" }
    if !gradients.isEmpty {
      out += "\ngradients:\n"
      for (name, t) in gradients { out += block(name, t, level: 1) }
    }
    if !trace.isEmpty {
      out += "\ntrace:\n"
      for (name, t) in trace { out += block(name, t, level: 1) }
    }
    if let workspace { out += "\n" + workspace.text }
    return out
  }

  /// Writes `output.npy`, `loss.npy`, `gradients/KEY.npy` and `trace/LAYER.npy` into `dir`.
  func save(to dir: String) throws(FileError) {
    let base = dir.hasSuffix("/") ? dir : dir + "/"
    try FileSystem.makeDirectory(dir)
    try NpyFile.write(output, to: base + "output.npy")
    if let loss { try NpyFile.write(Tensor(shape: [], data: [loss.value]), to: base + "loss.npy") }
    if !gradients.isEmpty {
      try FileSystem.makeDirectory(base + "gradients")
      for (name, t) in gradients { try NpyFile.write(t, to: base + "gradients/\(name).npy") }
    }
    if !trace.isEmpty {
      try FileSystem.makeDirectory(base + "trace")
      for (name, t) in trace { try NpyFile.write(t, to: base + "trace/\(name).npy") }
    }
  }

  func indent(_ s: String, _ pad: String) -> String {
    s.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n")
  }

  /// A value as JSON (non-finite values as null) or as text; integers without a fraction.
  func number(_ v: T, json: Bool) -> String {
    guard v.isFinite else { return json ? "null" : (v.isNaN ? "nan" : v < 0 ? "-inf" : "inf") }
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    if let f = v as? Float { return f.description }
    return (v as! Double).description
  }

  /// Nested lists in the tensor's shape; `pretty` puts each row of a matrix on its own line.
  func nested(_ t: Tensor<T>, json: Bool, pretty: Bool = false) -> String {
    var text = ""
    let out = TextSink(limit: .max) { text += $0 }
    nested(t, json: json, pretty: pretty, into: out)
    out.flush()
    return text
  }

  /// `nested`, into `out`, which may write out what has gathered after each innermost row.
  func nested(_ t: Tensor<T>, json: Bool, pretty: Bool = false, into out: TextSink) {
    if t.shape.isEmpty { return out.append(number(t.data[0], json: json)) }
    func emit(_ depth: Int, _ offset: Int, _ stride: Int) {
      let n = t.shape[depth]
      let inner = stride / max(n, 1)
      out.append("[")
      for i in 0..<n {
        if i > 0 { out.append(pretty && depth < t.shape.count - 1 ? ",\n" + String(repeating: " ", count: depth + 1) : ", ") }
        if depth == t.shape.count - 1 {
          out.append(number(t.data[offset + i], json: json))
        } else {
          emit(depth + 1, offset + i * inner, inner)
        }
      }
      out.append("]")
      if depth == t.shape.count - 1 { out.flushIfFull() }
    }
    emit(0, 0, t.count)
  }
}

/// Text gathered and handed on in pieces of at least `limit` UTF-8 bytes.
final class TextSink {
  private var buffer = ""
  private let limit: Int
  private let write: (String) -> Void

  init(limit: Int, _ write: @escaping (String) -> Void) {
    self.limit = limit
    self.write = write
  }

  func append(_ s: String) { buffer += s }

  func flushIfFull() { if buffer.utf8.count >= limit { flush() } }

  func flush() {
    if !buffer.isEmpty { write(buffer) }
    buffer = ""
  }
}

/// `run --memory`: what the output pass's workspace did (its one arena, laid out by the
/// offset planner for the pass's fused schedule and kept for the next call), beside the
/// planner's figures for that schedule and `analyze --memory`'s planned arena (every
/// layer's value its own buffer, the input included, no fusion).
struct WorkspaceReport {
  /// Measured: the arena's bytes, in how many allocations, for how many values; the
  /// highest byte written; the most bytes live at once; reads of overwritten values.
  var allocatedBytes: Int, buffers: Int, requests: Int, highWaterBytes: Int, peakLentBytes: Int, overwrittenReads: Int
  /// Measured: the most bytes the layers run on arrays held outside the arena at one step, and that layer.
  var heapBytes: Int, heapLayer: String?
  /// The planner's arena for the pass's schedule, and its lower bound.
  var plannedBytes: Int, lowerBoundBytes: Int
  /// `analyze --memory`'s planned arena at fp32, nil for f64.
  var analyzedBytes: Int?

  init(_ usage: WorkspaceUsage, elementBytes: Int, planned: ActivationMemory, analyzed: ActivationMemory?, heapLayer: String?) {
    allocatedBytes = usage.allocatedElements * elementBytes
    buffers = usage.allocations
    requests = usage.writes.count
    highWaterBytes = usage.highWater * elementBytes
    peakLentBytes = usage.peakLive * elementBytes
    overwrittenReads = usage.overwrittenReads
    heapBytes = usage.heapElements * elementBytes
    self.heapLayer = heapBytes > 0 ? heapLayer : nil
    plannedBytes = planned.peak
    lowerBoundBytes = planned.lowerBound
    analyzedBytes = analyzed?.peak
  }

  var json: String {
    func n(_ v: Int?) -> String { v.map(String.init) ?? "null" }
    return
      "{\"allocated_bytes\": \(allocatedBytes), \"buffers\": \(buffers), \"requests\": \(requests), \"peak_lent_bytes\": \(peakLentBytes), "
      + "\"planned_bytes\": \(plannedBytes), \"lower_bound_bytes\": \(lowerBoundBytes), \"analyze_planned_bytes\": \(n(analyzedBytes)), "
      + "\"high_water_bytes\": \(highWaterBytes), \"overwritten_reads\": \(overwrittenReads), \"heap_bytes\": \(heapBytes), "
      + "\"heap_layer\": \(heapLayer.map(jsonLiteral) ?? "null")}"
  }

  private func jsonLiteral(_ s: String) -> String {
    var w = JSONWriter()
    w.string(s)
    return String(decoding: w.bytes, as: UTF8.self)
  }

  var text: String {
    var out = "workspace (the output pass's activations in one arena; the input is read in place):\n"
    out +=
      "  measured: \(Memory.bytesText(allocatedBytes)) allocated in \(buffers) \(buffers == 1 ? "arena" : "arenas") for \(requests) values, "
    out += "at most \(Memory.bytesText(peakLentBytes)) live at once, highest byte written \(Memory.bytesText(highWaterBytes))"
    out += overwrittenReads == 0 ? "\n" : ", \(overwrittenReads) reads of overwritten values\n"
    out +=
      "  planned:  \(Memory.bytesText(plannedBytes)) by the offset planner for this pass (lower bound \(Memory.bytesText(lowerBoundBytes)))\n"
    if let heapLayer {
      out +=
        "  outside the arena: at most \(Memory.bytesText(heapBytes)) at \(heapLayer) (a layer run on arrays: its inputs copied and its output; scratch inside it not counted)\n"
    }
    if let analyzedBytes {
      out += "  analyze --memory: \(Memory.bytesText(analyzedBytes)) (every layer its own buffer, the input included, nothing fused)\n"
    }
    return out
  }
}
