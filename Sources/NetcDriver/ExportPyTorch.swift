import ArgumentParser
import NetcBackends
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses

#if canImport(Glibc)
  import Glibc
#endif

extension Export {
  /// `--to pytorch`: the spec as a Python file. It needs the shapes only, so no weights
  /// are bound; the generated loader reads netc's weight directory.
  func exportPyTorch() throws {
    let given = try VarBindings(bindingOptions.bindings)
    var inputs = SpecInputs()
    let spec: Spec
    do { spec = try inputs.load(self.spec, bindings: given.values) } catch { throw ExitCode(error == .io ? 2 : 1) }
    try given.check(against: [(self.spec, spec)])
    let source: String
    do {
      let analysis = try analyze(spec.graph, bindings: given.values)
      source = try PyTorchExport.source(analysis.graph, analysis.shapes, specPath: self.spec)
    } catch {
      inputs.report(error.diagnostics)
      throw ExitCode(1)
    }
    let path = output ?? PyTorchExport.moduleFileName(spec.graph.name)
    if path == "-" { return Output.standard.write(source) }
    guard writeAll(Array(source.utf8), to: path) else {
      Output.error.write("netc: error: cannot write `\(path)`: \(String(cString: strerror(errno)))\n")
      throw ExitCode(2)
    }
    let classes = source.split(separator: "\n").filter { $0.hasPrefix("class ") }.count
    let tensors = source.split(separator: "\n").filter { $0.hasPrefix("    \"") && $0.contains("\": (\"") }.count
    Output.standard.write(
      "wrote \(path): PyTorch module `\(PyTorchExport.rootClassName(spec.graph))` (\(counted(classes, "class", plural: "classes")), \(counted(spec.graph.layers.count, "layer")), \(counted(tensors, "weight tensor")) for load_netc_weights)\n"
    )
  }
}
