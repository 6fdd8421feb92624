import NetcDiagnostics
import NetcIR

/// The concrete facts about one node that shape inference settles.
public struct ResolvedNode: Hashable, Sendable {
  /// The output shape, outermost first.
  public var shape: [Int]
  /// The window of a conv or pool.
  public var window: Window?
  /// Channels in and out, and groups, of a conv (`groups == inChannels` for depthwise).
  public var inChannels = 0, outChannels = 0, groups = 1
  /// True for the projection of `shortcut: auto` when the shapes already match: the node
  /// passes its input through and has no parameters.
  public var elided = false
}

/// The result of shape inference: one entry per node.
public struct Shapes: Sendable {
  /// Per node, in graph order.
  public var nodes: [ResolvedNode]

  /// The output shape of node `id`.
  public subscript(id: Int) -> [Int] { nodes[id].shape }
}

/// Names of the spatial axes of a tensor of rank `rank` (channels last).
func axisNames(rank: Int) -> [String] {
  switch rank {
  case 2: ["length"]
  case 3: ["height", "width"]
  case 4: ["depth", "height", "width"]
  default: (0..<max(0, rank - 1)).map { "axis \($0 + 1)" }
  }
}

/// A shape as the spec writes it: `6x6x20`.
public func formatShape(_ shape: [Int]) -> String {
  shape.map(String.init).joined(separator: "x")
}

/// Infers every node's shape with the vars bound to `bindings`; reports every layer whose
/// shape cannot be formed, and every asserted shape that does not hold.
public func inferShapes(_ graph: Graph, bindings: [String: Int]) throws(DiagnosticError) -> Shapes {
  let (shapes, problems) = inferShapesReporting(graph, bindings: bindings)
  guard let shapes, problems.isEmpty else { throw DiagnosticError(problems) }
  return shapes
}

/// Shape inference that keeps going past failed assertions: the shapes when every node's
/// could be formed (an `->` that does not hold still leaves its layer's shape known, so
/// later passes such as budgets and lint can run), and every problem found.
public func inferShapesReporting(_ graph: Graph, bindings: [String: Int]) -> (shapes: Shapes?, problems: [Diagnostic]) {
  var inference = ShapeInference(graph: graph, bindings: bindings)
  return inference.run()
}

private struct ShapeInference {
  let graph: Graph
  let bindings: [String: Int]
  var diagnostics: [Diagnostic] = []

  init(graph: Graph, bindings: [String: Int]) {
    self.graph = graph
    self.bindings = bindings
  }

  mutating func run() -> (Shapes?, [Diagnostic]) {
    var resolved: [ResolvedNode?] = []
    resolved.reserveCapacity(graph.nodes.count)
    for node in graph.nodes {
      // A node after a failed one has no shape and no error of its own.
      var inputs: [ResolvedNode] = []
      inputs.reserveCapacity(node.inputs.count)
      for i in node.inputs {
        guard let r = resolved[i] else { break }
        inputs.append(r)
      }
      if inputs.count < node.inputs.count {
        resolved.append(nil)
        continue
      }
      do {
        var r = try infer(node, inputs, resolved)
        if let expect = node.expect {
          // A failed assertion is reported, but the layer's shape stands for what follows.
          do { try check(expect, r.shape, node: node, resolved: r, input: inputs.first?.shape) } catch {
            diagnostics.append(contentsOf: error.diagnostics)
          }
        }
        if r.elided { r.shape = inputs[0].shape }
        resolved.append(r)
      } catch {
        diagnostics.append(contentsOf: error.diagnostics)
        resolved.append(nil)
      }
    }
    if let expect = graph.outputExpect, let last = resolved.last ?? nil {
      do { try check(expect, last.shape, node: graph.nodes[graph.outputID], resolved: last, input: nil, isOutput: true) } catch {
        diagnostics.append(contentsOf: error.diagnostics)
      }
    }
    let complete = !resolved.contains { $0 == nil }
    return (complete ? Shapes(nodes: resolved.map { $0! }) : nil, diagnostics)
  }

  func value(_ v: SymValue) throws(DiagnosticError) -> Int {
    do {
      return try v.expr.evaluate(bindings)
    } catch .unbound(let name) {
      throw DiagnosticError([
        .error(
          .unboundVar, "`\(name)` has no value here", at: v.range,
          notes: [.init("bind it with `--set \(name)=N`, or find its values with `netc solve`")])
      ])
    } catch .overflow {
      throw DiagnosticError([.error(.overflow, "`\(v.expr)` overflows 64-bit integers", at: v.range)])
    } catch {
      throw DiagnosticError([.error(.invalidValue, "`\(v.expr)` divides by zero", at: v.range)])
    }
  }

  /// Per-axis values: one given for all axes, or one per axis.
  func perAxis(_ values: [SymValue], axes: Int, default d: [Int], what: String, node: Node) throws(DiagnosticError) -> [Int] {
    if values.isEmpty { return d }
    let numbers = try values.map { (v) throws(DiagnosticError) in try value(v) }
    if numbers.count == 1 { return Array(repeating: numbers[0], count: axes) }
    guard numbers.count == axes else {
      throw DiagnosticError([
        .error(
          .rankMismatch, "\(what) has \(numbers.count) values but the input has \(axes) spatial \(axes == 1 ? "axis" : "axes")",
          at: values[0].range.merged(with: values[values.count - 1].range))
      ])
    }
    return numbers
  }

  func infer(_ node: Node, _ inputs: [ResolvedNode], _ all: [ResolvedNode?]) throws(DiagnosticError) -> ResolvedNode {
    let a = node.attributes
    var upper: String { node.op.mnemonic.uppercased() }  // for messages only: not on the hot path
    let checked = Checked(range: node.range)
    switch node.op {
    case .input:
      let shape = try graph.inputShape.map { (v) throws(DiagnosticError) in try value(v) }
      for (i, e) in shape.enumerated() where e < 1 {
        throw DiagnosticError([.error(.invalidValue, "an input extent must be at least 1, got \(e)", at: graph.inputShape[i].range)])
      }
      _ = try checked.product(shape)
      return ResolvedNode(shape: shape)

    case .conv, .dwconv, .pwconv, .maxpool, .avgpool:
      let x = inputs[0].shape
      guard x.count >= 2 else {
        throw DiagnosticError([
          .error(
            .rankMismatch, "\(upper) needs an image (HxWxC), a sequence (LxC) or a volume (DxHxWxC), got a vector of \(x[0])",
            at: node.headRange,
            notes: [.init("a window slides over spatial axes; the input was flattened before this layer")])
        ])
      }
      let axes = x.count - 1
      let cin = x[axes]
      if let target = a.shortcutTarget {
        return try projection(node, input: x, target: all[target]?.shape)
      }
      let kernel = try perAxis(a.kernel, axes: axes, default: [], what: "the kernel", node: node)
      let isPool = OpKind.pools.contains(node.op)
      let stride = try perAxis(
        a.stride, axes: axes, default: isPool ? kernel : Array(repeating: 1, count: axes), what: "`stride`", node: node)
      let dilation = try perAxis(a.dilation, axes: axes, default: Array(repeating: 1, count: axes), what: "`dilation`", node: node)
      for (values, what) in [(stride, "stride"), (dilation, "dilation"), (kernel, "kernel extent")] {
        if let bad = values.first(where: { $0 < 1 }) {
          throw DiagnosticError([.error(.invalidValue, "a \(what) must be at least 1, got \(bad)", at: node.headRange)])
        }
      }
      var padBegin: [Int], padEnd: [Int]
      switch a.padding {
      case .same:
        let pads = (0..<axes).map { samePadding(input: x[$0], kernel: kernel[$0], stride: stride[$0], dilation: dilation[$0]) }
        padBegin = pads.map(\.begin)
        padEnd = pads.map(\.end)
      case .explicit(let begin, let end):
        let zero = Array(repeating: 0, count: axes)
        padBegin = try perAxis(begin, axes: axes, default: zero, what: "`pad`", node: node)
        padEnd = try perAxis(end, axes: axes, default: zero, what: "`pad`", node: node)
        if let bad = (padBegin + padEnd).first(where: { $0 < 0 }) {
          throw DiagnosticError([.error(.invalidValue, "padding must be at least 0, got \(bad)", at: node.headRange)])
        }
      }
      let window = Window(
        kernel: kernel, stride: stride, padBegin: padBegin, padEnd: padEnd, dilation: dilation,
        rounding: isPool ? a.rounding : .floor)
      var out: [Int] = []
      out.reserveCapacity(axes + 1)
      for axis in 0..<axes {
        guard let extent = window.outputExtent(x[axis], axis: axis) else {
          throw DiagnosticError([
            .error(.overflow, "\(upper) on \(formatShape(x)): \(window.arithmetic(x[axis], axis: axis))", at: node.headRange)
          ])
        }
        guard extent >= 1 else {
          let arithmetic = window.arithmetic(x[axis], axis: axis)
          throw DiagnosticError([
            .error(
              .extentBelowOne, "\(upper) on \(formatShape(x)) leaves no output \(axisNames(rank: x.count)[axis]): \(arithmetic)",
              at: node.headRange,
              notes: [
                .init("out = \(window.rounding.rawValue)((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1 must be at least 1")
              ])
          ])
        }
        out.append(extent)
      }
      var r = ResolvedNode(shape: [], window: window)
      r.inChannels = cin
      switch node.op {
      case .conv, .pwconv:
        let groups = try a.groups.map { (g) throws(DiagnosticError) in try value(g) } ?? 1
        let cout = try value(a.count!)
        guard groups >= 1 else {
          throw DiagnosticError([.error(.invalidValue, "groups must be at least 1, got \(groups)", at: a.groups!.range)])
        }
        guard cout >= 1 else {
          throw DiagnosticError([.error(.invalidValue, "the number of filters must be at least 1, got \(cout)", at: a.count!.range)])
        }
        if cin % groups != 0 || cout % groups != 0 {
          let which = cin % groups != 0 ? "input channels (\(cin))" : "filters (\(cout))"
          throw DiagnosticError([
            .error(
              .groupsMismatch, "\(which) do not divide by groups (\(groups))", at: a.groups?.range ?? node.headRange,
              notes: [.init("a grouped conv needs input channels and filters both multiples of the groups")])
          ])
        }
        r.outChannels = cout
        r.groups = groups
      case .dwconv:
        let multiplier = try a.count.map { (c) throws(DiagnosticError) in try value(c) } ?? 1
        guard multiplier >= 1 else {
          throw DiagnosticError([.error(.invalidValue, "the depth multiplier must be at least 1, got \(multiplier)", at: a.count!.range)])
        }
        r.outChannels = try checked.mul(cin, multiplier)
        r.groups = cin
      default:
        r.outChannels = cin
        r.groups = cin
      }
      r.shape = out + [r.outChannels]
      _ = try checked.product(r.shape)
      return r

    case .gap, .gmp:
      let x = inputs[0].shape
      guard x.count >= 2 else {
        throw DiagnosticError([
          .error(.rankMismatch, "\(upper) needs spatial axes and channels (HxWxC), got a vector of \(x[0])", at: node.headRange)
        ])
      }
      return ResolvedNode(shape: Array(repeating: 1, count: x.count - 1) + [x[x.count - 1]])

    case .fc:
      let x = inputs[0].shape
      guard x.count == 1 else {
        throw DiagnosticError([
          .error(
            .rankMismatch, "FC needs a vector, got \(formatShape(x)) (rank \(x.count))", at: node.headRange,
            notes: [.init("add FLATTEN before it to make a vector of \((try? checked.product(x)).map(String.init) ?? "all") elements")])
        ])
      }
      let units = try value(a.count!)
      guard units >= 1 else {
        throw DiagnosticError([.error(.invalidValue, "the number of units must be at least 1, got \(units)", at: a.count!.range)])
      }
      var r = ResolvedNode(shape: [units])
      r.inChannels = x[0]
      r.outChannels = units
      return r

    case .flatten:
      return ResolvedNode(shape: [try checked.product(inputs[0].shape)])

    case .bn where a.shortcutTarget != nil:
      // The BN after the projection conv goes with it: identity when the conv is.
      let x = inputs[0].shape
      return ResolvedNode(shape: x, inChannels: x.last ?? 0, outChannels: x.last ?? 0, groups: 1, elided: inputs[0].elided)

    case .bn, .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .identity, .leakyrelu, .dropout:
      return ResolvedNode(shape: inputs[0].shape)

    case .add:
      let first = inputs[0].shape
      for (i, other) in inputs.enumerated().dropFirst() where other.shape != first {
        throw DiagnosticError([
          .error(
            .mergeMismatch,
            "cannot add \(formatShape(first)) (from `\(graph.nodes[node.inputs[0]].name)`) and \(formatShape(other.shape)) (from `\(graph.nodes[node.inputs[i]].name)`)",
            at: node.headRange,
            notes: [.init("add needs equal shapes; a residual's `shortcut: auto` projects the input to the body's shape")])
        ])
      }
      return ResolvedNode(shape: first)

    case .concat:
      let first = inputs[0].shape
      var channels = first.last ?? 0
      for (i, other) in inputs.enumerated().dropFirst() {
        guard other.shape.count == first.count, other.shape.dropLast() == first.dropLast() else {
          throw DiagnosticError([
            .error(
              .mergeMismatch,
              "cannot concatenate \(formatShape(first)) (from `\(graph.nodes[node.inputs[0]].name)`) and \(formatShape(other.shape)) (from `\(graph.nodes[node.inputs[i]].name)`) along channels",
              at: node.headRange, notes: [.init("concat needs every extent but the channels equal")])
          ])
        }
        channels = try checked.add(channels, other.shape.last!)
      }
      return ResolvedNode(shape: first.dropLast() + [channels])
    }
  }

  /// The projection of `shortcut: auto`: identity when the shapes match, else a 1x1 conv
  /// with the stride that maps the input's extents onto the target's.
  func projection(_ node: Node, input x: [Int], target: [Int]?) throws(DiagnosticError) -> ResolvedNode {
    guard let t = target else { throw DiagnosticError([]) }
    let axes = x.count - 1
    if x == t { return ResolvedNode(shape: x, elided: true) }
    guard t.count == x.count else {
      throw DiagnosticError([
        .error(
          .mergeMismatch, "`shortcut: auto` cannot project \(formatShape(x)) to the body's \(formatShape(t)): the ranks differ",
          at: node.range)
      ])
    }
    var stride: [Int] = []
    for axis in 0..<axes {
      // floor((x - 1) / s) + 1 == t: the smallest such s is ceil((x - 1) / t) when it fits.
      let s = t[axis] == 1 ? max(1, x[axis]) : max(1, (x[axis] - 1 + t[axis] - 1) / t[axis])
      guard (x[axis] - 1) / s + 1 == t[axis] else {
        throw DiagnosticError([
          .error(
            .mergeMismatch, "`shortcut: auto` cannot map \(formatShape(x)) onto the body's \(formatShape(t)) with a strided 1x1 conv",
            at: node.range,
            notes: [.init("write the shortcut's layers out instead of `auto`")])
        ])
      }
      stride.append(s)
    }
    let ones = Array(repeating: 1, count: axes), zeros = Array(repeating: 0, count: axes)
    let window = Window(kernel: ones, stride: stride, padBegin: zeros, padEnd: zeros, dilation: ones, rounding: .floor)
    return ResolvedNode(shape: t, window: window, inChannels: x[axes], outChannels: t[axes], groups: 1)
  }

  func check(_ pattern: ShapePattern, _ shape: [Int], node: Node, resolved: ResolvedNode, input: [Int]?, isOutput: Bool = false)
    throws(DiagnosticError)
  {
    var matches = pattern.extents.count == shape.count
    var expectedText: [String] = []
    for (i, extent) in pattern.extents.enumerated() {
      switch extent {
      case .any: expectedText.append("_")
      case .value(let v):
        let n = try value(v)
        expectedText.append(String(n))
        if i < shape.count, shape[i] != n { matches = false }
      }
    }
    guard !matches else { return }
    var notes: [Diagnostic.Note] = []
    if let window = resolved.window, let input, pattern.extents.count == shape.count, !resolved.elided {
      let names = axisNames(rank: shape.count)
      for axis in 0..<window.kernel.count {
        if case .value(let v) = pattern.extents[axis], try value(v) != shape[axis] {
          notes.append(.init("\(names[axis]): \(window.arithmetic(input[axis], axis: axis))"))
        }
      }
    }
    let what = isOutput ? "the network's output" : "`\(node.name)`"
    throw DiagnosticError([
      .error(
        .expectationFailed, "\(what) is \(formatShape(shape)), not \(expectedText.joined(separator: "x"))", at: pattern.range, notes: notes)
    ])
  }
}
