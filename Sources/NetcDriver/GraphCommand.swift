import ArgumentParser
import Foundation
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses

/// Output formats of `graph`.
enum GraphFormat: String, ExpressibleByArgument, CaseIterable {
  case html, svg, dot

  /// The format a file name asks for, from its extension.
  init?(path: String) {
    switch path.split(separator: ".").last?.lowercased() {
    case "html", "htm": self = .html
    case "svg": self = .svg
    case "dot", "gv": self = .dot
    default: return nil
    }
  }
}

/// `netc graph`: a picture of the network, with what `analyze` says about every layer.
struct GraphCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "graph",
    abstract: "Draw the network: layers as boxes, structures as frames, edges with shapes.",
    discussion: """
      HTML (default) is one self-contained file: the picture as inline SVG, the analyze \
      table (a row links to its box), the totals and the spec's warnings; --format svg the \
      picture alone, --format dot Graphviz source. The format follows the -o file's extension. \
      A repeat is drawn once with "× N" (the HTML also holds every copy, for specs up to \
      \(GraphCommand.expandLimit) layers); --expand draws every copy. With --compare, two \
      specs side by side, boxes that differ marked.
      """
  )

  /// The most layers for which the HTML also carries the picture with every copy drawn.
  static let expandLimit = 3000

  @Argument(help: "Spec file (YAML); two with --compare.")
  var specs: [String]

  @Option(name: .shortAndLong, help: ArgumentHelp("The file to write (default: standard output).", valueName: "path"))
  var output: String?

  @Option(help: "Output format: \(GraphFormat.allCases.map(\.rawValue).joined(separator: ", ")) (default: from -o, else html).")
  var format: GraphFormat?

  @Option(
    parsing: .unconditional, help: "Fold structures nested deeper than this into one box (as analyze's --depth).",
    transform: { try IntegerOption.parse($0, in: 0...Int.max) })
  var depth: Int?

  @Flag(help: "Draw every copy of every repeat instead of one with \"× N\".")
  var expand = false

  @Flag(help: "Two specs side by side, their differences marked (HTML).")
  var compare = false

  @Option(help: ArgumentHelp("Storage type for the weight and KV-cache bytes, as in analyze.", valueName: "type"))
  var dtype: StorageType?

  @OptionGroup var bindingOptions: BindingOptions

  var resolvedFormat: GraphFormat { format ?? output.flatMap(GraphFormat.init(path:)) ?? .html }

  func validate() throws {
    if compare {
      guard specs.count == 2 else { throw ValidationError("--compare draws two specs side by side: give two spec files") }
      guard resolvedFormat == .html else { throw ValidationError("--compare writes HTML: it has no --format \(resolvedFormat.rawValue)") }
    } else {
      guard specs.count == 1 else { throw ValidationError("give one spec file (two with --compare)") }
    }
    if format == nil, let output, GraphFormat(path: output) == nil {
      throw ValidationError("cannot tell the format from `\(output)`: name it .html, .svg or .dot, or give --format")
    }
  }

  func run() throws {
    let given = try VarBindings(bindingOptions.bindings)
    var inputs = SpecInputs()
    var loaded: [Spec] = []
    var worst: Failure?
    for path in specs {
      do { loaded.append(try inputs.load(path, bindings: given.values)) } catch { worst = worst == .io ? .io : error }
    }
    if let worst { throw ExitCode(worst == .io ? 2 : 1) }
    try given.check(against: zip(specs, loaded).map { ($0, $1) })
    var sheets: [GraphSheet] = []
    var reports: [Report] = []
    for spec in loaded {
      do {
        let (sheet, report) = try self.sheet(spec, bindings: given.values)
        sheets.append(sheet)
        if let report { reports.append(report) }
      } catch {
        inputs.report(error.diagnostics)
        throw ExitCode(1)
      }
    }
    let text: String
    if compare {
      text = HTMLRenderer.comparePage(sheets[0], sheets[1], totals: reports.count == 2 ? ComparisonFormat.table(reports) : nil)
    } else {
      let s = sheets[0]
      switch resolvedFormat {
      case .html: text = HTMLRenderer.page(s)
      case .svg: text = SVGRenderer(graph: s.graph, layout: s.layout, figures: s.figures).render(standalone: true)
      case .dot: text = DOTRenderer(graph: s.graph, layout: s.layout, figures: s.figures).render()
      }
    }
    guard let output else { return Output.standard.write(text) }
    do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch {
      Output.error.write("netc: error: cannot write `\(output)`: \((error as NSError).localizedDescription)\n")
      throw ExitCode(2)
    }
  }

  /// Analyses one spec (symbolically where vars are free) and lays out its picture.
  func sheet(_ spec: Spec, bindings: [String: Int]) throws(DiagnosticError) -> (GraphSheet, Report?) {
    let graph = spec.graph
    let unused = Set(spec.unusedVars.map(\.name))
    let free = graph.vars.map(\.name).filter { !unused.contains($0) && bindings[$0] == nil }
    let figures: GraphFigures
    var report: Report?
    var found = checkSpec(graph, unusedVars: spec.unusedVars, unusedBlocks: spec.unusedBlocks)
    if free.isEmpty {
      let analysis = try analyze(graph, bindings: bindings)
      report = Report(analysis, maxDepth: depth, storage: dtype)
      figures = GraphFigures(analysis, report: report!)
      if let w = channelsFirstInputWarning(graph, analysis.shapes[0]) { found.append(w) }
    } else {
      figures = GraphFigures(try analyzeSymbolic(graph, bindings: bindings, free: free), depth: depth, storage: dtype)
    }
    found = found.filter { !CheckRun.isAllowed($0, in: spec.source) }
    let layout = GraphLayout(graph, hidden: figures.hidden, depth: depth, expand: expand)
    let hasRepeat = graph.groups.contains { $0.kind == .repeat }
    let expanded =
      !expand && !compare && resolvedFormat == .html && hasRepeat && graph.nodes.count <= Self.expandLimit
      ? GraphLayout(graph, hidden: figures.hidden, depth: depth, expand: true) : nil
    let diagnostics = DiagnosticRenderer(sources: [spec.source]).render(found)
    return (
      GraphSheet(graph: graph, figures: figures, layout: layout, expanded: expanded, diagnostics: diagnostics, depth: depth), report
    )
  }
}
