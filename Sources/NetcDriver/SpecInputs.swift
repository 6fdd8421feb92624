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
  /// Per `.onnx` path imported with `partial`, the nodes left out.
  var unimported: [String: [UnimportedNode]] = [:]

  /// Reads and lowers the spec at `path`, its repeat counts' vars from `bindings`; prints
  /// diagnostics and throws on failure.
  /// An `.onnx` path is imported first (`netc import`, `--partial` with `partial`), its
  /// spec read as written; the nodes a partial import leaves out are warnings (NS603).
  mutating func load(_ path: String, bindings: [String: Int] = [:], partial: Bool = false) throws(Failure) -> Spec {
    let source: SourceFile
    do {
      if path.hasSuffix(".onnx") {
        let imported = try ONNXImport.read(path, partial: partial)
        source = SourceFile(path: path + " (imported)", text: imported.text)
        report(Self.assumedWarnings(path, imported.assumed))
        if partial {
          unimported[path] = imported.unimported
          report(Self.partialWarnings(path, imported.unimported))
        }
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

  /// One NS604 warning per optional input an import read as its default.
  static func assumedWarnings(_ path: String, _ assumed: [String]) -> [Diagnostic] {
    assumed.map { .warning(.onnxInputAssumed, "`\(path)`: input \($0)", at: nil) }
  }

  /// At most this many nodes left out are warnings each; JSON reports list them all.
  static let partialWarningLimit = 50

  /// One NS603 warning per node a partial import of `path` left out (the first
  /// `partialWarningLimit`, then one for the rest).
  static func partialWarnings(_ path: String, _ nodes: [UnimportedNode]) -> [Diagnostic] {
    var warnings = nodes.prefix(partialWarningLimit).map { n in
      Diagnostic.warning(.onnxPartial, "`\(path)`: node `\(n.name.prefix(80))` (\(n.opType)) not imported: \(n.reason)", at: nil)
    }
    if nodes.count > partialWarningLimit {
      warnings.append(
        .warning(
          .onnxPartial, "`\(path)`: \(nodes.count - partialWarningLimit) more nodes not imported (`--format json` lists them all)",
          at: nil))
    }
    return warnings
  }

  /// Prints diagnostics on standard error, with snippets from the sources read.
  func report(_ diagnostics: [Diagnostic]) {
    let renderer = DiagnosticRenderer(sources: sources, colored: Output.error.wantsColor)
    Output.error.write(renderer.render(diagnostics))
  }
}
