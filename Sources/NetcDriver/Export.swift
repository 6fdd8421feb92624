import ArgumentParser
import NetcBackends
import NetcDiagnostics
import NetcIR
import NetcONNX
import NetcPasses

#if canImport(Glibc)
  import Glibc
#endif

/// Formats `export` writes.
enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
  case onnx, pytorch
}

/// `netc export`: the network with its weights in another framework's format.
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a spec with its weights as an ONNX model.",
    discussion: """
      The model uses opset 17 (IR version 8). Convs, pools and BN read NCHW tensors (netc's \
      HxWxC is [N, C, H, W], a vector F is [N, F]); sequence layers read [N, T, C]; token ids \
      are an int64 [N, T] input; `N` is a symbolic batch. The weights are initializers named \
      LAYER.KIND; they come from the spec, --weights and --seed, as for `run`. A var of the \
      input's extents stays a named symbolic dimension (a --set value only binds the \
      weights' shapes); the extents that follow from it are named by their expressions, and \
      every name is listed in the model's metadata_props (`netc.dim.*`), with the input's and output's \
      layouts (`netc.layout.*`). See docs/onnx.md.
      """
  )

  @Argument(help: "The spec file (YAML).")
  var spec: String

  @Option(help: "The format: onnx, or pytorch (a torch.nn.Module as Python source; see docs/spec-language.md).")
  var to: ExportFormat = .onnx

  @Option(
    name: .shortAndLong,
    help: ArgumentHelp(
      "The file to write (default: NAME.onnx, or NAME.py with --to pytorch; - for standard output with --to pytorch).", valueName: "path"))
  var output: String?

  @OptionGroup var weightOptions: WeightOptions

  @OptionGroup var bindingOptions: BindingOptions

  func run() throws {
    if to == .pytorch { return try exportPyTorch() }
    let bound = try BoundSpec(
      path: spec, bindings: bindingOptions.bindings, weights: weightOptions.weights, seed: weightOptions.seed, backends: [])
    let graph = bound.graph
    let symbolic = symbolicShapes(graph)
    let bytes: [UInt8]
    do { bytes = try ONNXExport.bytes(graph, bound.shapes, parameters: bound.parameters, symbolic: symbolic) } catch {
      report(error.diagnostics, path: spec)
      throw ExitCode(1)
    }
    let path = output ?? graph.name + ".onnx"
    guard writeAll(bytes, to: path) else {
      Output.error.write("netc: error: cannot write `\(path)`: \(String(cString: strerror(errno)))\n")
      throw ExitCode(2)
    }
    let free = symbolic?.free ?? []
    let versions = ONNXVersion.versions(graph, bound.shapes)
    let dims = ([ONNXVersion.batch] + free).map { "`\($0)`" }.joined(separator: ", ")
    Output.standard.write(
      "wrote \(path): ONNX opset \(versions.opset) (IR \(versions.ir)), \(counted(graph.layers.count, "layer")), \(bytes.count) bytes; symbolic dims \(dims)\n"
    )
  }

  /// Every shape in terms of the vars of the inputs' spatial extents (a channel count
  /// fixes weights, so it stays a number); nil when the inputs have none.
  func symbolicShapes(_ graph: Graph) -> SymbolicAnalysis? {
    let spatial = graph.allInputs.flatMap { $0.tokens ? $0.shape[...] : $0.shape.dropLast() }
    var free: [String] = []
    for v in graph.vars where spatial.contains(where: { $0.expr.variables.contains(v.name) }) { free.append(v.name) }
    if free.isEmpty { return nil }
    guard let given = try? VarBindings(bindingOptions.bindings) else { return nil }
    let rest = given.values.filter { !free.contains($0.key) }
    return try? analyzeSymbolic(graph, bindings: rest, free: free)
  }

  func report(_ diagnostics: [Diagnostic], path: String) {
    var inputs = SpecInputs()
    _ = try? inputs.read(path)
    inputs.report(diagnostics)
  }

  func writeAll(_ bytes: [UInt8], to path: String) -> Bool {
    guard let f = fopen(path, "wb") else { return false }
    let n = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, f) }
    return fclose(f) == 0 && n == bytes.count
  }
}
