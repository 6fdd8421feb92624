import NetcDiagnostics
import NetcIR

/// Checks every asserted figure (`expect: { params: 3620 }` on a layer, the top-level
/// `expect:` on the totals) against the counted costs. A wrong one is an error at the
/// assertion with the right figure and its working, the writer's own arithmetic checked
/// when given, and the likely mistake named when one or two known ones explain the value.
public func checkFigures(_ graph: Graph, _ shapes: Shapes, _ costs: Costs) -> [Diagnostic] {
  var out: [Diagnostic] = []
  func figure(_ cost: Cost, _ f: Figure) -> Int {
    switch f {
    case .params: cost.params
    case .buffers: cost.buffers
    case .macs: cost.macs
    case .activations: cost.activations
    }
  }
  func arithmeticNote(_ e: FigureExpectation, truth: Int) -> [Diagnostic.Note] {
    guard let expression = e.expression, let computed = e.expressionValue else { return [] }
    return [
      .init(
        "`\(expression)` is \(grouped(computed)), not \(grouped(e.value))"
          + (computed == truth ? ": the formula is right, the arithmetic is not" : ""))
    ]
  }
  let sepconvs = Dictionary(graph.groups.filter { $0.kind == .sepconv }.map { ($0.nodes.upperBound, $0) }, uniquingKeysWith: { a, _ in a })
  for node in graph.nodes where !node.expectedFigures.isEmpty {
    let layer = layerWorking(graph, shapes, node: node.id)
    for e in node.expectedFigures {
      if let group = sepconvs[node.id] {
        let parts = group.nodes.map { figure(costs.nodes[$0], e.figure) }
        let truth = parts.reduce(0, &+)
        guard truth != e.value else { continue }
        out.append(
          .error(
            .expectationFailed, "`\(group.name)` has \(grouped(truth)) \(e.figure.title), not \(grouped(e.value))", at: e.range,
            notes: arithmeticNote(e, truth: truth)
              + [
                .init(
                  "\(e.figure.title) = depthwise + pointwise = \(parts.map { grouped($0) }.joined(separator: " + ")) = \(grouped(truth))")
              ]))
        continue
      }
      let truth = figure(costs.nodes[node.id], e.figure)
      guard truth != e.value else { continue }
      var notes = arithmeticNote(e, truth: truth)
      let working = layer.working(e.figure)
      if let working {
        notes.append(.init("\(e.figure.title) = \(working.formula) = \(working.arithmetic) = \(grouped(truth))"))
        let searched = e.expressionValue ?? e.value
        if searched != truth, let input = node.inputs.first.map({ shapes.nodes[$0].shape }),
          let named = nameMistake(
            claimed: searched, working: working, layer: layer, node: node, window: shapes.nodes[node.id].window, input: input)
        {
          notes.append(.init(named))
        }
      } else {
        notes.append(.init("`\(node.name)` (\(node.op)) has no \(e.figure.title): \(layer.remark ?? "it is 0")"))
      }
      out.append(
        .error(
          .expectationFailed, "`\(node.name)` has \(grouped(truth)) \(e.figure.title), not \(grouped(e.value))", at: e.range, notes: notes))
    }
  }
  for e in graph.expectedTotals {
    let truth = figure(costs.total, e.figure)
    guard truth != e.value else { continue }
    var notes = arithmeticNote(e, truth: truth)
    let parts = graph.nodes.map { ($0.name, figure(costs.nodes[$0.id], e.figure)) }.filter { $0.1 != 0 }
    if parts.count <= 12 {
      notes.append(.init("total \(e.figure.title) = \(parts.map { grouped($0.1) }.joined(separator: " + ")) = \(grouped(truth))"))
    }
    let searched = e.expressionValue ?? e.value
    if let missing = parts.first(where: { truth - $0.1 == searched }) {
      notes.append(.init("\(grouped(searched)) leaves out `\(missing.0)`'s \(grouped(missing.1))"))
    } else if let twice = parts.first(where: { truth + $0.1 == searched }) {
      notes.append(.init("\(grouped(searched)) counts `\(twice.0)`'s \(grouped(twice.1)) twice"))
    }
    out.append(
      .error(.expectationFailed, "the network has \(grouped(truth)) \(e.figure.title), not \(grouped(e.value))", at: e.range, notes: notes))
  }
  return out
}
