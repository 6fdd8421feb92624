import NetcDiagnostics
import NetcIR

/// Checks the graph's invariants: node 0 and the nodes of named inputs are the inputs, every node reads earlier
/// nodes, merges read at least one node, attention one or two (with `cross`) and the rest
/// exactly one. (Names are unique
/// by construction: lowering claims each in its scope, and scopes are dotted prefixes.)
/// A failure is a bug in netc, not in the spec, so it says so.
public func verify(_ graph: Graph) throws(DiagnosticError) {
  var problems: [Diagnostic] = []
  for (index, node) in graph.nodes.enumerated() {
    func fail(_ message: String) {
      problems.append(.error(.invalidValue, "internal error: \(message) (please report this)", at: node.range))
    }
    if node.id != index { fail("node `\(node.name)` has id \(node.id) at position \(index)") }
    let declared = index == 0 || graph.namedInputs.contains { $0.node == index }
    if (node.op == .input) != declared { fail("node `\(node.name)` misplaces the input") }
    if node.inputs.contains(where: { $0 < 0 || $0 >= index }) { fail("node `\(node.name)` reads a later node") }
    let arity: ClosedRange<Int>
    switch node.op.definition.arity {
    case .none: arity = 0...0
    case .one: arity = 1...1
    case .oneOrTwo: arity = 1...2
    case .many: arity = 1...Int.max
    }
    if !arity.contains(node.inputs.count) { fail("node `\(node.name)` has \(node.inputs.count) inputs") }
    if let t = node.attributes.shortcutTarget, t >= index { fail("node `\(node.name)` matches a later node") }
    if let t = node.attributes.tiedTo, t >= index { fail("node `\(node.name)` ties a later node") }
  }
  for group in graph.groups where group.nodes.upperBound >= graph.nodes.count {
    problems.append(.error(.invalidValue, "internal error: group `\(group.name)` covers missing nodes", at: group.range))
  }
  if !problems.isEmpty { throw DiagnosticError(problems) }
}
