import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses

/// Reads a spec from text, as a file named `test.yaml`.
public func parseSpec(_ text: String) throws(DiagnosticError) -> Spec {
  try SpecLoader.parse(SourceFile(path: "test.yaml", text: text))
}

/// Reads and analyses a spec from text.
public func analyzeSpec(_ text: String, bindings: [String: Int] = [:], batch: Int = 1) throws(DiagnosticError) -> Analysis {
  try analyze(parseSpec(text).graph, bindings: bindings, batch: batch)
}

/// The diagnostics of reading and analysing a spec, sorted as they are shown.
public func diagnostics(of text: String) -> [Diagnostic] {
  do {
    _ = try analyzeSpec(text)
    return []
  } catch {
    return error.diagnostics.sortedForDisplay()
  }
}

/// A spec around a list of layers on `input`.
public func specText(input: String, layers: [String], extra: String = "") -> String {
  "name: t\ninput: \(input)\n\(extra)layers:\n" + layers.map { "  - \($0)\n" }.joined()
}

extension Analysis {
  /// The node named `name`, for assertions.
  public func node(_ name: String) -> (shape: [Int], cost: Cost)? {
    guard let n = graph.nodes.first(where: { $0.name == name }) else { return nil }
    return (shapes[n.id], costs.nodes[n.id])
  }

  /// The names of the layers (not the input), in order.
  public var layerNames: [String] { graph.layers.map(\.name) }
}
