import ArgumentParser
import NetcDiagnostics
import NetcFrontend

/// The `--set name=value` bindings of one command line. Every mistake in them is a usage
/// error (exit 2) caught before any work starts: a value that is not an integer or does not
/// fit in 64 bits, a var given twice, a var that no spec of the command declares.
struct VarBindings {
  /// The value of each var given.
  var values: [String: Int] = [:]
  /// The items as typed, by var, for messages.
  private var items: [String: String] = [:]

  /// Parses the items; prints the first mistake and throws exit code 2.
  init(_ arguments: [String]) throws {
    for item in arguments {
      let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let name = parts.first.map { $0.trimmingCharacters() } ?? ""
      let text = parts.count == 2 ? parts[1].trimmingCharacters() : ""
      guard parts.count == 2, !name.isEmpty, isInteger(text) else {
        throw usage("`--set \(item)` must be `name=integer`, as in `--set k=9`")
      }
      guard let value = Int(text) else {
        throw usage("`--set \(item)`: \(text) is too large: a var is a 64-bit integer, from \(Int.min) to \(Int.max)")
      }
      if let earlier = items[name] {
        throw usage("`--set \(name)` is given twice (`\(earlier)` and `\(item)`): give each var once")
      }
      values[name] = value
      items[name] = item
    }
  }

  /// Checks that each var given is declared by at least one of `specs` (a var of one spec
  /// of several is fine: `analyze a.yaml b.yaml --set k=3`). Prints and throws exit code 2.
  func check(against specs: [(path: String, spec: Spec)]) throws {
    let declared = specs.flatMap { $0.spec.graph.vars.map(\.name) }
    for name in values.keys.sorted() where !declared.contains(name) {
      let owner = specs.count == 1 ? "`\(specs[0].path)` has" : "none of the specs has"
      var message = "`--set \(items[name]!)`: \(owner) no var `\(name)`"
      var unique: [String] = []
      for v in declared where !unique.contains(v) { unique.append(v) }
      if unique.isEmpty {
        message += " (\(specs.count == 1 ? "it declares" : "they declare") no vars)"
      } else {
        message += "; \(specs.count == 1 ? "its" : "their") vars are " + unique.map { "`\($0)`" }.joined(separator: ", ")
        // Replacing every letter of a name is no typo: `z` is not a misspelled `k`.
        if let match = closestMatch(to: name, in: unique), editDistance(name, match) < name.count {
          message += " (did you mean `\(match)`?)"
        }
      }
      throw usage(message)
    }
  }

  private func usage(_ message: String) -> ExitCode {
    Output.error.write("netc: error: \(message)\n")
    return ExitCode(2)
  }
}

extension StringProtocol {
  /// The text without leading and trailing spaces.
  func trimmingCharacters() -> String {
    var s = Substring(self)
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}
