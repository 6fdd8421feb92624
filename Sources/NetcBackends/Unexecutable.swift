import NetcDiagnostics
import NetcIR

/// The two ways netc executes a graph.
public enum Backend: String, Sendable {
  /// `netc run`: the interpreter.
  case run
  /// `netc emit` and `netc bench`: generated Swift.
  case emit

  /// Whether this backend executes `op` (each backend's own exhaustive answer).
  public func executes(_ op: OpKind) -> Bool {
    switch self {
    case .run: Interpreter<Float>.executes(op)
    case .emit: SwiftEmitter.emits(op)
    }
  }
}

/// One error per layer kind of `graph` that `backend` cannot execute yet, at its first
/// layer, before any weight is bound or any work starts: analysis covers every op, the
/// backends not yet.
public func unexecutableLayers(_ graph: Graph, by backend: Backend) -> [Diagnostic] {
  var seen: Set<OpKind> = []
  var out: [Diagnostic] = []
  // The emitted class's `forward` takes one input buffer.
  if backend == .emit, let second = graph.namedInputs.dropFirst().first {
    out.append(
      .error(
        .notExecutable,
        "`netc emit` compiles networks of one input; this spec reads \(graph.namedInputs.count), `\(second.name)` the second",
        at: graph.nodes[second.node].headRange, notes: [.init("`netc run` executes every input (`--input NAME=TENSOR` each)")]))
  }
  for node in graph.layers where !backend.executes(node.op) && seen.insert(node.op).inserted {
    let count = graph.layers.count { $0.op == node.op }
    let others = count > 1 ? " (and \(count - 1) more \(node.op.mnemonic.uppercased()) \(count == 2 ? "layer" : "layers"))" : ""
    out.append(
      .error(
        .notExecutable, "`netc \(backend.rawValue)` cannot execute \(node.op.mnemonic.uppercased()) layers yet: `\(node.name)`\(others)",
        at: node.headRange,
        notes: [
          .init(
            backend == .run
              ? "`netc analyze`, `check` and `solve` handle every layer"
              : "`netc analyze`, `check` and `solve` handle every layer; `emit` covers the CNN and MLP layers so far, `run` every layer"
          )
        ]))
  }
  return out
}
