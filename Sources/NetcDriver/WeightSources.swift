import ArgumentParser
import NetcBackends
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses

/// Loads a spec, binds its vars, infers shapes and binds Float weights: the common start
/// of `emit` and `bench`. Diagnostics go to standard error; the thrown code is the exit code.
struct BoundSpec {
  var spec: Spec
  /// The analysed graph (`shortcut: auto` resolved), which the backends run.
  var graph: Graph
  var shapes: Shapes
  var parameters: [LayerParameters<Float>?]

  /// `refuse` names the layers the command cannot handle (an export's), checked with the
  /// backends' before the memory check: a spec that cannot go further is told why first.
  init(
    path: String, bindings: [String], weights: [String], seed: UInt64, backends: [Backend] = [.emit],
    refuse: (Graph) -> [Diagnostic] = { _ in [] }
  ) throws {
    let given = try VarBindings(bindings)
    let values = given.values
    var inputs = SpecInputs()
    do { spec = try inputs.load(path, bindings: values) } catch { throw ExitCode(error == .io ? 2 : 1) }
    try given.check(against: [(path, spec)])
    let analysis: Analysis
    do { analysis = try analyze(spec.graph, bindings: values) } catch {
      inputs.report(error.diagnostics)
      throw ExitCode(1)
    }
    let (graph, shapes) = (analysis.graph, analysis.shapes)
    (self.graph, self.shapes) = (graph, shapes)
    let refused = backends.flatMap { unexecutableLayers(graph, by: $0) } + refuse(graph)
    if !refused.isEmpty {
      inputs.report(refused)
      throw ExitCode(1)
    }
    // `emit` and `bench` hold the weights in about as many layouts as `run`.
    try MemoryCheck.require(graph, shapes, elementSize: 4, gradients: false, inputs: inputs)
    let sources = try weightSources(of: spec, at: path, extra: weights, inputs: &inputs)
    do { parameters = try WeightBinding.bind(graph, shapes, sources: sources, seed: seed) } catch {
      inputs.report(error.diagnostics)
      throw ExitCode(error.diagnostics.contains { $0.code == .weightFile } ? 2 : 1)
    }
  }
}

/// The weight sources of a spec in increasing precedence: its own `weights:`, then each
/// `--weights` path (a directory of `.npy` files, or a YAML/JSON mapping). Diagnostics go
/// to standard error; the thrown code is the exit code (2 for I/O, 1 for a bad file).
func weightSources(of spec: Spec, at specPath: String, extra paths: [String], inputs: inout SpecInputs) throws -> [WeightSource] {
  var sources: [WeightSource] = []
  if let w = spec.weights { sources.append(.mapping(w, file: specPath)) }
  for path in paths {
    if isDirectory(path) {
      sources.append(.directory(path))
      continue
    }
    do {
      let file = try SpecFileLoader.load(path: path, maxBytes: 1 << 28)
      inputs.sources.append(file)
      if let root = try YAMLReader.read(file, limits: YAMLLimits(maxExpandedNodes: 64_000_000)) {
        sources.append(.mapping(WeightsDecl(root), file: path))
      }
    } catch {
      inputs.report(error.diagnostics)
      throw ExitCode(error.diagnostics.contains { $0.code == .io || $0.code == .sizeLimit } ? 2 : 1)
    }
  }
  return sources
}

/// `--weights` and `--seed`, shared by `run`, `emit` and `bench`.
struct WeightOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Weights: a YAML/JSON mapping like the spec's `weights:`, or a directory of LAYER.KIND.npy files (repeatable; later ones win).",
      valueName: "path"))
  var weights: [String] = []

  @Option(
    parsing: .unconditional, help: "Seed of the deterministic initialisation of weights no source gives (and of bench's input).",
    transform: IntegerOption.seed)
  var seed: UInt64 = 0
}

/// `--set name=value`, shared by every command that reads a spec's vars.
struct BindingOptions: ParsableArguments {
  @Option(name: .customLong("set"), help: ArgumentHelp("Bind a var: --set k=9 (repeatable).", valueName: "name=value"))
  var bindings: [String] = []
}
