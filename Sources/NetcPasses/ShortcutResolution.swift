import NetcIR

/// Rewrites each projection of `shortcut: auto`, now that shapes are known, into what it
/// is: an `identity` where the shapes already match (with its BN), else a plain strided
/// 1x1 conv without bias and a plain BN. The one transform after shape inference: every
/// figure, memory plan and backend reads its result, so none sees an elided projection.
/// Node ids stay, so parameters bound by node id apply to either graph.
public func resolveShortcuts(_ graph: Graph, _ shapes: Shapes) -> (graph: Graph, shapes: Shapes) {
  guard graph.nodes.contains(where: { $0.attributes.shortcutTarget != nil }) else { return (graph, shapes) }
  var g = graph
  var s = shapes
  for node in graph.nodes where node.attributes.shortcutTarget != nil {
    let r = shapes.nodes[node.id]
    var a = node.attributes
    a.shortcutTarget = nil
    if r.elided {
      g.nodes[node.id].op = .identity
      g.nodes[node.id].attributes = Attributes()
      g.nodes[node.id].attributes.elidedShortcut = true
      s.nodes[node.id] = ResolvedNode(shape: r.shape)
      continue
    }
    if node.op.isConvolution, let w = r.window {
      a.kernel = w.kernel.map { .const($0, at: node.headRange) }
      a.stride = w.stride.map { .const($0, at: node.headRange) }
      a.count = .const(r.outChannels, at: node.headRange)
      a.bias = false
    }
    g.nodes[node.id].attributes = a
  }
  return (g, s)
}

/// Whether `graph` has no projection of `shortcut: auto` left: the graph a backend takes
/// (`analyze` resolves it).
public func shortcutsResolved(_ graph: Graph) -> Bool {
  !graph.nodes.contains { $0.attributes.shortcutTarget != nil }
}
