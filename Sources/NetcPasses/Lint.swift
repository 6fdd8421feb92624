import NetcDiagnostics
import NetcIR

/// Warnings about specs that are valid but probably not what their author meant: an
/// analysis over the graph and its shapes that never changes either. Each warning has its
/// own code (NS501...), so `--werror` and tools can key on it.
///
/// `shapes` is nil when the spec has free vars: then only the warnings that need no
/// numbers (repeated activations, shadowed names) are looked for.
public func lint(_ graph: Graph, _ shapes: Shapes?) -> [Diagnostic] {
  var warnings: [Diagnostic] = []
  if let shapes {
    for node in graph.nodes where node.op.isWindowed && node.attributes.shortcutTarget == nil {
      let r = shapes.nodes[node.id]
      guard let window = r.window else { continue }
      let input = shapes.nodes[node.inputs[0]].shape
      warnings += droppedInput(node, window, input: input, output: r.shape)
      warnings += paddingAsLargeAsKernel(node, window)
    }
  }
  warnings += repeatedActivations(graph)
  warnings += shadowedNames(graph)
  return warnings
}

/// NS501: a window that leaves rows at the end of an axis unread (15x15 through POOL-2
/// reads 14 rows). Only where windows tile the axis without gaps: a 1x1 stride-2 conv skips
/// every other row by design, and its skipping the last one is no surprise.
private func droppedInput(_ node: Node, _ window: Window, input: [Int], output: [Int])
  -> [Diagnostic]
{
  let names = axisNames(rank: input.count)
  var lost: [String] = []
  var arithmetic: [Diagnostic.Note] = []
  for axis in 0..<window.kernel.count where window.rounding == .floor {
    let span = window.dilation[axis] * (window.kernel[axis] - 1) + 1
    guard span >= window.stride[axis] else { continue }
    let dropped = window.droppedInput(input[axis], output: output[axis], axis: axis)
    guard dropped > 0 else { continue }
    let unit = names[axis] == "width" ? "column" : "row"
    lost.append("\(dropped) \(unit)\(dropped == 1 ? "" : "s")")
    arithmetic.append(
      .init(
        "\(names[axis]): \(window.arithmetic(input[axis], axis: axis)); the windows read \(input[axis] - dropped) of \(input[axis])"
      ))
  }
  guard !lost.isEmpty else { return [] }
  let upper = node.op.mnemonic.uppercased()
  let fix: Diagnostic.Note =
    node.op.isPool
    ? .init("pad the input, or write `round ceil` to keep a last partial window")
    : .init("pad the input so that the last window ends at its edge")
  return [
    .warning(
      .droppedInput,
      "\(upper) on \(formatShape(input)) drops the last \(lost.joined(separator: " and ")) of its input",
      at: node.headRange,
      notes: arithmetic + [fix])
  ]
}

/// NS502: padding at least the window's extent: the first or last window sees padding only.
private func paddingAsLargeAsKernel(_ node: Node, _ window: Window) -> [Diagnostic] {
  for axis in 0..<window.kernel.count {
    let span = window.dilation[axis] * (window.kernel[axis] - 1) + 1
    let pad = max(window.padBegin[axis], window.padEnd[axis])
    if pad >= span {
      return [
        .warning(
          .padAsLargeAsKernel,
          "padding \(pad) is as large as the \(span == window.kernel[axis] ? "kernel" : "dilated kernel") (\(span)): windows at the edge read padding only",
          at: node.headRange,
          notes: [
            .init(
              "padding of up to \(span - 1) keeps every window on the input; `pad same` computes it"
            )
          ])
      ]
    }
  }
  return []
}

/// NS503: an activation right after the same activation.
private func repeatedActivations(_ graph: Graph) -> [Diagnostic] {
  var out: [Diagnostic] = []
  for node in graph.nodes where node.op.traits.contains(.activation) && node.inputs.count == 1 {
    let previous = graph.nodes[node.inputs[0]]
    guard previous.op == node.op else { continue }
    let upper = node.op.mnemonic.uppercased()
    let effect =
      node.op.traits.contains(.idempotent)
      ? "\(upper) of \(upper) changes nothing" : "\(upper) is applied twice"
    out.append(
      .warning(
        .repeatedActivation, "\(upper) right after another \(upper) (`\(previous.name)`)",
        at: node.headRange,
        notes: [.init(effect, at: previous.headRange)]))
  }
  return out
}

/// NS506: a name written with `name` inside a structure that is also the name of a layer or
/// structure in an enclosing scope (`res1.body.conv1` and a top-level `conv1` it was not
/// counted from). Default names (`conv1` for the first CONV) repeat in every scope by
/// design and are not reported.
private func shadowedNames(_ graph: Graph) -> [Diagnostic] {
  // Layers named with `name` inside a structure; most specs have none, and then the table
  // of every name (200,000 entries for a big spec) is not needed.
  var candidates: [(node: Node, dot: String.Index, local: String)] = []
  for node in graph.nodes where node.op != .input {
    guard let dot = node.name.lastIndex(of: ".") else { continue }
    let local = String(node.name[node.name.index(after: dot)...])
    // Merges, routers and splits are named by their structure, never by the spec.
    if isDefaultName(local, for: node.op) || ["dw", "pw"].contains(local) || node.op.definition.spelling == nil { continue }
    candidates.append((node, dot, local))
  }
  guard !candidates.isEmpty else { return [] }
  var taken: [String: SourceRange] = [:]
  for node in graph.nodes { taken[node.name] = node.headRange }
  for group in graph.groups where taken[group.name] == nil { taken[group.name] = group.range }
  var out: [Diagnostic] = []
  for (node, dot, local) in candidates {
    var prefix = String(node.name[..<dot])
    while true {
      let outer: String
      if let d = prefix.lastIndex(of: ".") {
        prefix = String(prefix[..<d])
        outer = prefix + "." + local
      } else {
        outer = local
      }
      if let range = taken[outer] {
        out.append(
          .warning(
            .shadowedName, "the name `\(local)` of `\(node.name)` shadows `\(outer)`",
            at: node.headRange,
            notes: [
              .init(
                "`\(outer)` is here; a different name keeps weights and traces unambiguous",
                at: range)
            ]))
        break
      }
      if outer == local { break }
    }
  }
  return out
}

/// True for the name lowering gives a layer of `op` by default: its mnemonic and a count.
private func isDefaultName(_ name: String, for op: OpKind) -> Bool {
  DefaultName.matches(name, base: op.mnemonic)
}
