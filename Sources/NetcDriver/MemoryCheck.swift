import ArgumentParser
import NetcDiagnostics
import NetcIR
import NetcPasses

#if canImport(Glibc)
  import Glibc
#endif

/// Whether executing a spec fits in memory, checked before anything is allocated: an
/// `FC-2000000000` on a 10-vector asks for 80 GB of weights, and the allocation would
/// abort the process (or the kernel's OOM killer would end it) instead of an error.
enum MemoryCheck {
  /// The bytes `run` needs, roughly and from above: three copies of the weights (as given,
  /// packed for the GEMM, and in the fp32 kernels' panels, scaled by a folded BN or not),
  /// four when the unfused pass runs (`--trace`, gradients: it packs the unscaled panels
  /// too), every activation once, and with gradients one more value per parameter and per
  /// activation. Nil on overflow.
  static func estimate(_ cost: Cost, elementSize: Int, gradients: Bool, unfused: Bool = false) -> Int? {
    let weights = cost.params.addingReportingOverflow(cost.buffers)
    let copies = weights.partialValue.multipliedReportingOverflow(by: unfused || gradients ? 4 : 3)
    var values = copies.partialValue.addingReportingOverflow(cost.activations)
    var overflow = weights.overflow || copies.overflow || values.overflow
    if gradients {
      let extra = cost.params.addingReportingOverflow(cost.activations)
      let sum = values.partialValue.addingReportingOverflow(extra.partialValue)
      overflow = overflow || extra.overflow || sum.overflow
      values = sum
    }
    let bytes = values.partialValue.multipliedReportingOverflow(by: elementSize)
    return overflow || bytes.overflow ? nil : bytes.partialValue
  }

  /// This machine's available memory (Linux's `MemAvailable`), or nil where it is unknown.
  static func available() -> Int? {
    guard let file = fopen("/proc/meminfo", "r") else { return nil }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0, let line {
      let text = String(cString: line)
      guard text.hasPrefix("MemAvailable:") else { continue }
      let kilobytes = text.split(separator: " ").dropFirst().first.flatMap { Int($0) }
      return kilobytes.map { $0 * 1024 }
    }
    return nil
  }

  /// Stops the command (exit 1) with its diagnostics when the spec does not fit in memory
  /// or its costs cannot be counted; what `run`, `emit` and `bench` call before binding weights.
  static func require(
    _ graph: Graph, _ shapes: Shapes, elementSize: Int, gradients: Bool, unfused: Bool = false, inputs: SpecInputs
  ) throws {
    let costs: Costs
    do { costs = try countCosts(graph, shapes) } catch {
      inputs.report(error.diagnostics)
      throw ExitCode(1)
    }
    if let d = check(graph, costs, elementSize: elementSize, gradients: gradients, unfused: unfused, available: available()) {
      inputs.report([d])
      throw ExitCode(1)
    }
  }

  /// An NS404 error at the layer that needs the most, when the spec needs more than
  /// `available` bytes (or more than can be counted); nil when it fits.
  static func check(
    _ graph: Graph, _ costs: Costs, elementSize: Int, gradients: Bool, unfused: Bool = false, available: Int?
  ) -> Diagnostic? {
    guard let available else { return nil }
    let needed = estimate(costs.total, elementSize: elementSize, gradients: gradients, unfused: unfused)
    if let needed, needed <= available { return nil }
    var largest = graph.layers.first
    var most = -1
    for node in graph.layers {
      let c = costs.nodes[node.id]
      let size = c.params.addingReportingOverflow(c.activations)
      let value = size.overflow ? Int.max : size.partialValue
      if value > most {
        most = value
        largest = node
      }
    }
    let amount = needed.map { "about \(NumberFormat.bytes($0))" } ?? "more bytes than an Int64 counts"
    let precision = elementSize == 4 ? "fp32" : "fp64"
    var notes = [
      Diagnostic.Note(
        "\(NumberFormat.grouped(costs.total.params)) parameters and \(NumberFormat.grouped(costs.total.activations)) activation values in \(precision); the weights are kept in up to four layouts"
      )
    ]
    if let largest {
      let c = costs.nodes[largest.id]
      notes.append(
        Diagnostic.Note(
          "'\(largest.name)' is the largest: \(NumberFormat.grouped(c.params)) parameters, \(NumberFormat.grouped(c.activations)) activation values",
          at: largest.headRange))
    }
    return .error(
      .memoryLimit,
      "running this spec needs \(amount), more than the \(NumberFormat.bytes(available)) this machine has available",
      at: largest?.headRange, notes: notes)
  }
}
