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
  var shapes: Shapes
  var parameters: [LayerParameters<Float>?]

  init(path: String, bindings: [String], weights: [String], seed: UInt64) throws {
    let values: [String: Int]
    do { values = try parseBindings(bindings) } catch { throw ExitCode(2) }
    var inputs = SpecInputs()
    do { spec = try inputs.load(path) } catch { throw ExitCode(error == .io ? 2 : 1) }
    do { shapes = try analyze(spec.graph, bindings: values).shapes } catch {
      inputs.report(error.diagnostics)
      throw ExitCode(1)
    }
    var sources: [WeightSource] = []
    if let w = spec.weights { sources.append(.mapping(w, file: path)) }
    for file in weights {
      if isDirectory(file) {
        sources.append(.directory(file))
        continue
      }
      do {
        let source = try SpecFileLoader.load(path: file, maxBytes: 1 << 28)
        inputs.sources.append(source)
        if let root = try YAMLReader.read(source, limits: YAMLLimits(maxExpandedNodes: 64_000_000)) {
          sources.append(.mapping(root, file: file))
        }
      } catch {
        inputs.report(error.diagnostics)
        throw ExitCode(error.diagnostics.contains { $0.code == .io || $0.code == .sizeLimit } ? 2 : 1)
      }
    }
    do { parameters = try WeightBinding.bind(spec.graph, shapes, sources: sources, seed: seed) } catch {
      inputs.report(error.diagnostics)
      throw ExitCode(error.diagnostics.contains { $0.code == .weightFile } ? 2 : 1)
    }
  }
}
