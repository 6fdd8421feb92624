import NetcDiagnostics
import NetcFrontend
import NetcIR

/// What went wrong reading specs: decides the exit code (2 for I/O, 1 for a bad spec).
enum Failure: Error {
  case io
  case spec
}

/// Loads specs for a command and reports their diagnostics on standard error.
struct SpecInputs {
  /// The sources read so far, for snippets under diagnostics.
  var sources: [SourceFile] = []

  /// Reads and lowers the spec at `path`; prints diagnostics and throws on failure.
  mutating func load(_ path: String) throws(Failure) -> Spec {
    let source: SourceFile
    do {
      source = try SpecFileLoader.load(path: path)
    } catch {
      report(error.diagnostics)
      throw .io
    }
    sources.append(source)
    do {
      return try SpecLoader.parse(source)
    } catch {
      report(error.diagnostics)
      throw .spec
    }
  }

  /// Prints diagnostics on standard error, with snippets from the sources read.
  func report(_ diagnostics: [Diagnostic]) {
    let renderer = DiagnosticRenderer(sources: sources, colored: Output.error.wantsColor)
    Output.error.write(renderer.render(diagnostics))
  }
}

/// Parses `--set name=value` bindings.
func parseBindings(_ items: [String]) throws(Failure) -> [String: Int] {
  var out: [String: Int] = [:]
  for item in items {
    let parts = item.split(separator: "=", maxSplits: 1)
    guard parts.count == 2, let v = Int(parts[1].trimmingCharacters()), !parts[0].isEmpty else {
      Output.error.write("netc: error: `--set \(item)` must be `name=integer`, as in `--set k=9`\n")
      throw .io
    }
    out[String(parts[0]).trimmingCharacters()] = v
  }
  return out
}

extension StringProtocol {
  func trimmingCharacters() -> String {
    var s = Substring(self)
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}
