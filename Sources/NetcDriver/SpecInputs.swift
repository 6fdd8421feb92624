import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcONNX

/// What went wrong reading specs: decides the exit code. One rule for every command:
/// a file that cannot be read at all (missing, a directory, no permission: NS001) is an
/// I/O error, exit 2; a file that was read but is no spec (binary, not UTF-8, too large,
/// not YAML, wrong keys) is a wrong spec, exit 1, as `netc check` reports it.
enum Failure: Error {
  case io
  case spec
}

/// Loads specs for a command and reports their diagnostics on standard error.
struct SpecInputs {
  /// The sources read so far, for snippets under diagnostics.
  var sources: [SourceFile] = []

  /// Reads and lowers the spec at `path`, its repeat counts' vars from `bindings`; prints
  /// diagnostics and throws on failure.
  /// An `.onnx` path is imported first (`netc import`), its spec read as written.
  mutating func load(_ path: String, bindings: [String: Int] = [:]) throws(Failure) -> Spec {
    let source: SourceFile
    do {
      if path.hasSuffix(".onnx") {
        source = SourceFile(path: path + " (imported)", text: try ONNXImport.read(path).text)
      } else {
        source = try SpecFileLoader.load(path: path)
      }
    } catch {
      report(error.diagnostics)
      throw error.diagnostics.contains { $0.code == .io } ? .io : .spec
    }
    sources.append(source)
    do {
      return try SpecLoader.parse(source, repeatBindings: bindings)
    } catch {
      report(error.diagnostics)
      throw .spec
    }
  }

  /// Reads the spec at `path` without lowering it; prints diagnostics and throws on failure.
  mutating func read(_ path: String) throws(Failure) -> SourceFile {
    do {
      let source = try SpecFileLoader.load(path: path)
      sources.append(source)
      return source
    } catch {
      report(error.diagnostics)
      throw error.diagnostics.contains { $0.code == .io } ? .io : .spec
    }
  }

  /// Prints diagnostics on standard error, with snippets from the sources read.
  func report(_ diagnostics: [Diagnostic]) {
    let renderer = DiagnosticRenderer(sources: sources, colored: Output.error.wantsColor)
    Output.error.write(renderer.render(diagnostics))
  }
}
