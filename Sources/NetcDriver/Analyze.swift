import ArgumentParser
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses

/// Output formats of `analyze`.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
  case table, json, markdown, csv
}

/// `netc analyze`: shapes, parameters and MACs of every layer, and the totals.
struct Analyze: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show every layer's output shape, parameters and MACs, and the totals.",
    discussion: """
      Figures follow PyTorch's conventions: params = sum of p.numel() over learnable tensors, \
      MACs = multiply-accumulates of conv and fc layers. With several specs, each gets a \
      report; --compare puts their totals side by side with ratios to the first.
      """
  )

  @Argument(help: "Spec files (YAML).")
  var specs: [String]

  @Option(help: "Output format: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
  var format: ReportFormat = .table

  @Flag(help: "Compare the specs' totals side by side, with ratios to the first.")
  var compare = false

  @Option(
    parsing: .unconditional, help: "Batch size: MACs and activations scale with it, parameters do not.",
    transform: { try IntegerOption.parse($0, in: 1...Int.max) })
  var batch = 1

  @Option(
    parsing: .unconditional, help: "Fold structures nested deeper than this into one row (as torchinfo's depth).",
    transform: { try IntegerOption.parse($0, in: 0...Int.max) })
  var depth: Int?

  @Option(
    help: ArgumentHelp(
      "Storage type for the weight and KV-cache bytes: \(StorageType.allCases.map(\.rawValue).joined(separator: ", ")) (shown for every spec with it; for specs with attention by default, at fp32).",
      valueName: "type"))
  var dtype: StorageType?

  @Flag(help: "Show each layer's figures with their formulas and the layer's numbers (the working), instead of the table.")
  var explain = false

  @Option(
    name: .customLong("layer"),
    help: ArgumentHelp("With --explain: only this layer, or the layers of this structure (repeatable).", valueName: "name"))
  var explainLayers: [String] = []

  @Flag(
    help:
      "Report inference activation memory: per layer the bytes live while it runs; in total the sum without reuse, the live-bytes lower bound and the planned arena (at --dtype, fp32 by default)."
  )
  var memory = false

  @Flag(
    help:
      "Report training memory: what the forward pass saves for backward (as PyTorch's eager autograd keeps it), gradients, optimizer state and the step's total; and backward MACs."
  )
  var train = false

  @Option(
    help: ArgumentHelp("With --train: \(Optimizer.allCases.map(\.rawValue).joined(separator: ", ")) (default adamw).", valueName: "name"))
  var optimizer: Optimizer?

  @Option(
    name: .customLong("mixed-precision"),
    help: ArgumentHelp(
      "With --train: fp16 or bf16 weights, gradients and activations, with an fp32 master copy and fp32 optimizer state.",
      valueName: "type"))
  var mixedPrecision: StorageType?

  @Option(
    help: ArgumentHelp(
      "With --train: also print the largest batch whose training step fits in this many bytes (`16 GiB`, `24GB`).",
      valueName: "bytes"),
    transform: { text in
      guard let n = parseByteCount(text), n > 0 else { throw ValidationError("--fit takes bytes such as `16 GiB`, not `\(text)`") }
      return n
    })
  var fit: Int?

  @Flag(name: .customLong("print-ir"), help: "Print the IR with inferred shapes instead of the report.")
  var printIR = false

  @Flag(
    help:
      "For an .onnx model: analyze the layers netc imports, and list each node it cannot (warnings NS603; JSON's \"unimported\"), instead of an error."
  )
  var partial = false

  @OptionGroup var bindingOptions: BindingOptions
  var bindings: [String] { bindingOptions.bindings }

  func validate() throws {
    guard !specs.isEmpty else { throw ValidationError("give at least one spec file") }
    // The IR printer writes text only; a JSON request that got text would break its reader.
    if printIR && format != .table {
      throw ValidationError("--print-ir prints the IR as text: it has no --format \(format.rawValue)")
    }
    if printIR && compare { throw ValidationError("--print-ir and --compare do not go together") }
    if partial && !specs.contains(where: { $0.hasSuffix(".onnx") }) {
      throw ValidationError("--partial imports what it can of an .onnx model: give one")
    }
    if (optimizer != nil || mixedPrecision != nil) && !train {
      throw ValidationError("\(optimizer != nil ? "--optimizer" : "--mixed-precision") is a training setting: add --train")
    }
    if let m = mixedPrecision, m != .fp16 && m != .bf16 {
      throw ValidationError("--mixed-precision takes fp16 or bf16, not \(m.rawValue)")
    }
    if train && mixedPrecision != nil && dtype != nil {
      throw ValidationError("--mixed-precision sets the training types: drop --dtype")
    }
    if fit != nil && !train { throw ValidationError("--fit finds the largest batch that trains: add --train") }
    if train && (format == .markdown || format == .csv) {
      throw ValidationError("--train reports in the table and JSON, not --format \(format.rawValue)")
    }
    if train && (explain || printIR || compare) {
      throw ValidationError("--train does not go with \(explain ? "--explain" : printIR ? "--print-ir" : "--compare")")
    }
    if !explainLayers.isEmpty && !explain { throw ValidationError("--layer picks the layers --explain shows: add --explain") }
    if explain {
      if printIR || compare { throw ValidationError("--explain does not go with \(printIR ? "--print-ir" : "--compare")") }
      if format != .table && format != .json { throw ValidationError("--explain prints text or JSON, not --format \(format.rawValue)") }
      if batch != 1 { throw ValidationError("--explain shows the working for one example: drop --batch") }
    }
  }

  func run() throws {
    let given = try VarBindings(bindings)
    let values = given.values
    var inputs = SpecInputs()
    // In the order given: a report, or expressions in the vars left free.
    var reports: [Report] = []
    var symbolic: [(index: Int, analysis: SymbolicAnalysis)] = []
    var worst: Failure?
    // Every spec is read before any is analysed: `--set` is checked against all their vars.
    var loaded: [(path: String, spec: Spec)] = []
    for path in specs {
      do {
        loaded.append((path, try inputs.load(path, bindings: values, partial: partial)))
      } catch {
        worst = worst == .io ? .io : error
      }
    }
    // A spec that did not load may be the one that declares a var: its error comes first.
    if loaded.count == specs.count { try given.check(against: loaded) }
    for (path, spec) in loaded {
      do {
        let unused = Set(spec.unusedVars.map(\.name))
        let free = spec.graph.vars.map(\.name).filter { !unused.contains($0) && values[$0] == nil }
        if !free.isEmpty {
          if explain {
            if let name = unknownLayer(spec.graph) {
              Output.error.write("netc: error: `\(path)` has no layer `\(name)`\n")
              worst = .io
              continue
            }
            let a = try analyzeSymbolic(spec.graph, bindings: values, free: free)
            let text =
              format == .json
              ? ExplainFormat.symbolicJSON(a, selection: explainLayers) : ExplainFormat.symbolicTable(a, selection: explainLayers)
            Output.standard.write(text.hasSuffix("\n") ? text : text + "\n")
            continue
          }
          if printIR {
            Output.standard.write(GraphPrinter.print(spec.graph))
            continue
          }
          // Only the table and JSON have a place for expressions; the other outputs need numbers.
          if compare || format == .markdown || format == .csv || batch != 1 || memory || train {
            let what =
              compare
              ? "--compare"
              : batch != 1 ? "--batch" : memory ? "--memory" : train ? "--train" : "--format \(format.rawValue)"
            Output.error.write(
              "netc: error: \(what) needs every var of `\(path)` bound: give \(free.map { "--set \($0)=N" }.joined(separator: " "))\n")
            worst = .io
            continue
          }
          symbolic.append((reports.count + symbolic.count, try analyzeSymbolic(spec.graph, bindings: values, free: free)))
          continue
        }
        let analysis: Analysis
        do { analysis = try analyze(spec.graph, bindings: values, batch: batch) } catch {
          // The spec's numbers fit for one example: the flag made them overflow, not the spec.
          if batch != 1, let one = try? analyze(spec.graph, bindings: values) {
            Output.error.write("netc: error: \(batchTooLarge(one.costs.total, path))\n")
            worst = .io
            continue
          }
          throw error
        }
        // Figures for a C x H x W input would look plausible and be wrong: say so first.
        if let w = channelsFirstInputWarning(spec.graph, analysis.shapes[0]), !CheckRun.isAllowed(w, in: spec.source) {
          inputs.report([w])
        }
        if printIR {
          Output.standard.write(GraphPrinter.print(spec.graph, shapes: analysis.shapes.nodes.map(\.shape)))
          continue
        }
        if explain {
          if let name = unknownLayer(spec.graph) {
            Output.error.write("netc: error: `\(path)` has no layer `\(name)`\n")
            worst = .io
            continue
          }
          let text =
            format == .json
            ? ExplainFormat.json(analysis, selection: explainLayers) : ExplainFormat.table(analysis, selection: explainLayers)
          Output.standard.write(text.hasSuffix("\n") ? text : text + "\n")
          continue
        }
        var report = Report(
          analysis, maxDepth: depth, storage: dtype, memory: memory,
          training: train ? (optimizer ?? .adamw, mixedPrecision) : nil, fit: fit)
        report.unimported = inputs.unimported[path] ?? []
        reports.append(report)
      } catch let failure as Failure {
        worst = worst == .io ? .io : failure
      } catch let error as DiagnosticError {
        inputs.report(error.diagnostics)
        if worst == nil { worst = .spec }
      }
    }
    if !reports.isEmpty || !symbolic.isEmpty {
      let text = symbolic.isEmpty ? render(reports) : renderMixed(reports, symbolic)
      Output.standard.write(text.hasSuffix("\n") ? text : text + "\n")
    }
    switch worst {
    case .io?: throw ExitCode(2)
    case .spec?: throw ExitCode(1)
    case nil: break
    }
  }

  /// The first name `--layer` gives that names no layer or structure of `graph`.
  func unknownLayer(_ graph: Graph) -> String? {
    explainLayers.first { name in !graph.nodes.contains { $0.name == name || $0.name.hasPrefix(name + ".") } }
  }

  /// Which figure of `path` `--batch` makes overflow, as a usage error's message.
  func batchTooLarge(_ perExample: Cost, _ path: String) -> String {
    let (figure, value) =
      perExample.macs.multipliedReportingOverflow(by: batch).overflow
      ? ("MACs", perExample.macs) : ("activations", perExample.activations)
    return "--batch \(batch) is too large for `\(path)`: \(NumberFormat.grouped(value)) \(figure) per example "
      + "times \(batch) overflow 64-bit integers (at most \(NumberFormat.grouped(Int.max)))"
  }

  /// Reports and symbolic analyses in the order their specs were given (table or JSON).
  func renderMixed(_ reports: [Report], _ symbolic: [(index: Int, analysis: SymbolicAnalysis)]) -> String {
    var parts: [String] = []
    var next = reports.makeIterator()
    var pending = symbolic[...]
    for index in 0..<(reports.count + symbolic.count) {
      if let s = pending.first, s.index == index {
        pending = pending.dropFirst()
        parts.append(
          format == .json
            ? SymbolicFormat.json(s.analysis, storage: dtype) : SymbolicFormat.table(s.analysis, maxDepth: depth, storage: dtype))
      } else if let r = next.next() {
        parts.append(format == .json ? JSONFormat.render(r) : TableFormat.render(r))
      }
    }
    guard format == .json, parts.count > 1 else { return parts.joined(separator: "\n") }
    return "[\n"
      + parts.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") }
      .joined(separator: ",\n") + "\n]"
  }

  func render(_ reports: [Report]) -> String {
    if compare {
      switch format {
      case .table: return ComparisonFormat.table(reports)
      case .json: return ComparisonFormat.json(reports)
      case .markdown: return ComparisonFormat.markdown(reports)
      case .csv: return ComparisonFormat.csv(reports)
      }
    }
    switch format {
    case .table: return reports.map(TableFormat.render).joined(separator: "\n")
    case .json: return reports.count == 1 ? JSONFormat.render(reports[0]) : JSONFormat.render(reports)
    case .markdown: return reports.map(MarkdownFormat.render).joined(separator: "\n")
    case .csv:
      let columns = CSVFormat.Columns(reports, memory: memory)
      return columns.header + reports.map { CSVFormat.render($0, columns) }.joined()
    }
  }
}

extension StorageType: ExpressibleByArgument {}
extension Optimizer: ExpressibleByArgument {}
