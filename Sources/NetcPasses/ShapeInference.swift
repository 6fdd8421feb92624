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
  /// True when the output is token ids (the network's input declared as `T tokens`).
  public var tokens = false
  /// True when the op has no tensors although its kind may (a sinusoidal position embedding).
  public var noParameters = false
  /// Attention: query heads, key/value heads, one head's width, and the length and width
  /// of the sequence its keys and values come from.
  public var heads = 0, kvHeads = 0, headDim = 0, memoryLength = 0, memoryChannels = 0
  /// A transposed conv's input extents.
  public var inputSpatial: [Int] = []
  /// In a mixture's expert: the experts there are, and those each token runs.
  public var experts = 1, activeExperts = 1
  /// True when the weight is another node's (`tie`).
  public var tiedWeight = false
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
        let r = try infer(node, inputs, resolved)
        if let expect = node.expect {
          // A failed assertion is reported, but the layer's shape stands for what follows.
          do { try check(expect, r.shape, node: node, resolved: r, input: inputs.first?.shape) } catch {
            diagnostics.append(contentsOf: error.diagnostics)
          }
        }
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
    diagnostics += tieProblems(resolved)
    let complete = !resolved.contains { $0 == nil }
    return (complete ? Shapes(nodes: resolved.map { $0! }) : nil, diagnostics)
  }

  /// A tie shares one tensor: both layers' weights must have one shape.
  func tieProblems(_ resolved: [ResolvedNode?]) -> [Diagnostic] {
    var out: [Diagnostic] = []
    for node in graph.nodes {
      guard let t = node.attributes.tiedTo, let mine = resolved[node.id], let theirs = resolved[t] else { continue }
      let target = graph.nodes[t]
      func weight(_ n: Node, _ r: ResolvedNode) -> [Int]? { parameterShapes(n, r).first { $0.0 == .weight }?.1 }
      guard let a = weight(node, mine), let b = weight(target, theirs), a != b else { continue }
      out.append(
        .error(
          .weightShape,
          "`\(node.name)` cannot share `\(target.name)`'s weight: its own would be \(formatShape(a)), `\(target.name)`'s is \(formatShape(b))",
          at: node.headRange,
          notes: [
            .init("`\(target.name)` is here", at: target.headRange),
            .init("a tie shares one tensor; a LINEAR-N after width C ties with an EMBED-C of vocab N ([N][C] both)"),
          ]))
    }
    return out
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

  /// The node's values with the vars bound, in the order the rule reads them.
  func evaluated(_ a: Attributes) throws(DiagnosticError) -> RuleAttributes<Int> {
    var r = RuleAttributes<Int>()
    r.kernel = try a.kernel.map { (v) throws(DiagnosticError) in try value(v) }
    r.stride = try a.stride.map { (v) throws(DiagnosticError) in try value(v) }
    r.dilation = try a.dilation.map { (v) throws(DiagnosticError) in try value(v) }
    switch a.padding {
    case .same: r.same = true
    case .explicit(let begin, let end):
      r.padBegin = try begin.map { (v) throws(DiagnosticError) in try value(v) }
      r.padEnd = try end.map { (v) throws(DiagnosticError) in try value(v) }
    }
    r.groups = try a.groups.map { (v) throws(DiagnosticError) in try value(v) }
    r.count = try a.count.map { (v) throws(DiagnosticError) in try value(v) }
    r.rounding = a.rounding
    r.isProjection = a.shortcutTarget != nil
    for (key, values) in a.integers {
      r.integers[key] = try values.map { (v) throws(DiagnosticError) in try value(v) }
    }
    r.sinusoidal = a.sinusoidal
    r.index = a.index
    r.tied = a.tiedTo != nil
    return r
  }

  func infer(_ node: Node, _ inputs: [ResolvedNode], _ all: [ResolvedNode?]) throws(DiagnosticError) -> ResolvedNode {
    let inputShape =
      node.op == .input ? try graph.inputShape(of: node.id).map { (v) throws(DiagnosticError) in try value(v) } : []
    var target: [Int]?
    if let t = node.attributes.shortcutTarget {
      // A projection whose target failed has no shape and no error of its own.
      guard let shape = all[t]?.shape else { throw DiagnosticError([]) }
      target = shape
    }
    let result = shapeRule(
      node.op, try evaluated(node.attributes), inputs: inputs.map(\.shape), inputShape: inputShape, target: target,
      inputElided: inputs.first?.elided ?? false, inputTokens: inputs.first?.tokens ?? false,
      tokenInput: graph.isTokenInput(node.id))
    switch result {
    case .success(let r): return ResolvedNode(r)
    case .failure(let failure): throw render(failure, node, inputs.first?.shape ?? inputShape, inputs: inputs)
    }
  }

  /// The diagnostic for a rule's failure at `node`, whose first input is `x`.
  func render(_ failure: ShapeFailure<Int>, _ node: Node, _ x: [Int], inputs: [ResolvedNode]) -> DiagnosticError {
    let a = node.attributes
    let upper = node.op.mnemonic.uppercased()
    func error(_ code: DiagnosticCode, _ message: String, at range: SourceRange?, notes: [Diagnostic.Note] = []) -> DiagnosticError {
      DiagnosticError([.error(code, message, at: range, notes: notes)])
    }
    switch failure {
    case .rank:
      switch node.op.definition.inputRank {
      case .vector:
        return error(
          .rankMismatch, "FC needs a vector, got \(formatShape(x)) (rank \(x.count))", at: node.headRange,
          notes: [.init("add FLATTEN before it to make a vector of \(x.ruleProduct().value.map(String.init) ?? "all") elements")])
      case .spatial where node.op.isWindowed:
        return error(
          .rankMismatch, "\(upper) needs an image (HxWxC), a sequence (LxC) or a volume (DxHxWxC), got a vector of \(x[0])",
          at: node.headRange, notes: [.init("a window slides over spatial axes; the input was flattened before this layer")])
      case .spatial, .any:
        return error(.rankMismatch, "\(upper) needs spatial axes and channels (HxWxC), got a vector of \(x[0])", at: node.headRange)
      case .sequence:
        let memory = inputs.count > 1 && inputs[1].shape.count != 2 ? inputs[1].shape : x
        var notes: [Diagnostic.Note] = []
        if memory.count > 2 { notes.append(.init("make the grid a sequence with TOKENS (`HxWxC` to `(H*W)xC`)")) }
        if memory.count == 1 { notes.append(.init("a vector has no positions; the sequence was taken or flattened before this layer")) }
        let what = memory == x ? "" : " `cross` layer's output"
        return error(
          .rankMismatch, "\(upper) needs a sequence (LxC), got\(what) \(formatShape(memory)) (rank \(memory.count))", at: node.headRange,
          notes: notes)
      case .tokens:
        return error(
          .rankMismatch, "EMBED reads token ids, got \(formatShape(x))", at: node.headRange,
          notes: [.init("declare the input as token ids: `input: 1024 tokens` (or `input: $T tokens`)")])
      }
    case .axisCount(let which):
      let values: [SymValue], what: String
      switch which {
      case .kernel: (values, what) = (a.kernel, "the kernel")
      case .stride: (values, what) = (a.stride, "`stride`")
      case .dilation: (values, what) = (a.dilation, "`dilation`")
      case .padBegin, .padEnd:
        if case .explicit(let b, let e) = a.padding { values = which == .padBegin ? b : e } else { values = [] }
        what = "`pad`"
      }
      let axes = x.count - 1
      guard let first = values.first, let last = values.last else {
        return error(.rankMismatch, "\(what) has no values", at: node.headRange)
      }
      return error(
        .rankMismatch, "\(what) has \(values.count) values but the input has \(axes) spatial \(axes == 1 ? "axis" : "axes")",
        at: first.range.merged(with: last.range))
    case .windowBelowOne(let which, let bad):
      let what = which == .stride ? "stride" : which == .dilation ? "dilation" : "kernel extent"
      return error(.invalidValue, "a \(what) must be at least 1, got \(bad)", at: node.headRange)
    case .negativePadding(let bad):
      return error(.invalidValue, "padding must be at least 0, got \(bad)", at: node.headRange)
    case .samePaddingOverflow(let axis):
      return error(
        .overflow, "\(upper) on \(formatShape(x)): `pad same` along the \(axisNames(rank: x.count)[axis]) overflows 64-bit integers",
        at: node.headRange)
    case .extentOverflow(let axis, let w):
      let window = Window(w)
      return error(.overflow, "\(upper) on \(formatShape(x)): \(window.arithmetic(x[axis], axis: axis))", at: node.headRange)
    case .extentBelowOne(let axis, let w):
      let window = Window(w)
      return error(
        .extentBelowOne,
        "\(upper) on \(formatShape(x)) leaves no output \(axisNames(rank: x.count)[axis]): \(window.arithmetic(x[axis], axis: axis))",
        at: node.headRange,
        notes: [.init("out = \(window.rounding.rawValue)((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1 must be at least 1")]
      )
    case .inputBelowOne(let index, let bad):
      return error(.invalidValue, "an input extent must be at least 1, got \(bad)", at: graph.inputShape(of: node.id)[index].range)
    case .countBelowOne(let isGroups, let bad):
      if isGroups { return error(.invalidValue, "groups must be at least 1, got \(bad)", at: a.groups?.range) }
      let what = node.op == .dwconv ? "the depth multiplier" : "the number of \(node.op.definition.spelling?.countName ?? "filters")"
      return error(.invalidValue, "\(what) must be at least 1, got \(bad)", at: a.count?.range ?? node.headRange)
    case .groupsMismatch(let cin, let cout, let groups):
      let which = cin % groups != 0 ? "input channels (\(cin))" : "filters (\(cout))"
      return error(
        .groupsMismatch, "\(which) do not divide by groups (\(groups))", at: a.groups?.range ?? node.headRange,
        notes: [.init("a grouped conv needs input channels and filters both multiples of the groups")])
    case .overflow(let operation):
      return error(.overflow, "\(operation) overflows 64-bit integers", at: node.range)
    case .mergeMismatch(let i):
      let first = inputs[0].shape, other = inputs[i].shape
      let names = (graph.nodes[node.inputs[0]].name, graph.nodes[node.inputs[i]].name)
      if node.op == .add {
        return error(
          .mergeMismatch,
          "cannot add \(formatShape(first)) (from `\(names.0)`) and \(formatShape(other)) (from `\(names.1)`)",
          at: node.headRange,
          notes: [.init("add needs equal shapes; a residual's `shortcut: auto` projects the input to the body's shape")])
      }
      return error(
        .mergeMismatch,
        "cannot concatenate \(formatShape(first)) (from `\(names.0)`) and \(formatShape(other)) (from `\(names.1)`) along channels",
        at: node.headRange, notes: [.init("concat needs every extent but the channels equal")])
    case .missingTarget, .noClosedForm:
      return DiagnosticError([])
    case .tokenIDs:
      return error(
        .rankMismatch, "\(upper) on token ids: the input is \(x[0]) tokens, not vectors", at: node.headRange,
        notes: [.init("an EMBED layer turns token ids into vectors: `EMBED-768 vocab 50257`")])
    case .notTokens:
      return error(.rankMismatch, "EMBED reads token ids, got \(formatShape(x))", at: node.headRange)
    case .sequenceTooLong(let length, let table):
      return error(
        .invalidValue, "a sequence of \(length) positions is longer than the position table's \(table)",
        at: a.count?.range ?? node.headRange,
        notes: [.init("a learned table has one row per position: make it at least \(length), or use `POSEMBED sinusoidal`")])
    case .indexOutOfRange(let index, let length):
      return error(
        .invalidValue, "`index \(index)` is outside a sequence of \(length) tokens (valid: \(-length) to \(length - 1))", at: node.headRange
      )
    case .headsMismatch(let width, let heads):
      return error(
        .groupsMismatch, "\(heads) heads do not divide the width \(width) (\(width) = \(width / heads) x \(heads) + \(width % heads))",
        at: a.count?.range ?? node.headRange, notes: [.init("each head gets width / heads features; give `dim` to set a head's width")])
    case .kvHeadsMismatch(let heads, let kv):
      return error(
        .groupsMismatch, "\(kv) key/value heads do not divide the \(heads) query heads", at: a.integer(.kvHeads)?.range ?? node.headRange,
        notes: [.init("grouped-query attention shares each key/value head among heads / kv query heads")])
    case .broadcastMismatch(let i):
      let names = (graph.nodes[node.inputs[0]].name, graph.nodes[node.inputs[i]].name)
      return error(
        .mergeMismatch,
        "cannot multiply \(formatShape(inputs[0].shape)) (from `\(names.0)`) and \(formatShape(inputs[i].shape)) (from `\(names.1)`): the shapes do not broadcast",
        at: node.headRange,
        notes: [.init("aligned at the end, each pair of extents must be equal or one of them 1, as in `1x1xC` times `HxWxC`")])
    case .channelSplit(let channels, let parts):
      let what = node.op == .shuffle ? "\(parts) shuffle groups" : "\(parts) equal parts"
      return error(.groupsMismatch, "\(channels) channels do not divide into \(what)", at: a.count?.range ?? node.headRange)
    case .outputPaddingTooLarge(let axis, let outpad, let stride, let dilation):
      return error(
        .invalidValue,
        "`outpad` \(outpad) along the \(axisNames(rank: x.count)[axis]) must be below the stride (\(stride)) or the dilation (\(dilation))",
        at: a.integers[.outputPadding]?.first?.range ?? node.headRange)
    case .transposedExtentBelowOne(let axis, let extent):
      return error(
        .extentBelowOne, "\(upper) on \(formatShape(x)) leaves no output \(axisNames(rank: x.count)[axis]): the extent is \(extent)",
        at: node.headRange, notes: [.init("out = (in-1)*stride - pad_begin - pad_end + dilation*(k-1) + outpad + 1 must be at least 1")])
    case .topKAboveExperts(let top, let experts):
      return error(.invalidValue, "`top: \(top)` routes each token to more experts than the \(experts) there are", at: node.range)
    case .unsupported(let what):
      return error(.invalidValue, "\(upper) does not take \(what)", at: node.headRange)
    case .projectionRank(let t):
      return error(
        .mergeMismatch, "`shortcut: auto` cannot project \(formatShape(x)) to the body's \(formatShape(t)): the ranks differ",
        at: node.range)
    case .projectionStride(let t):
      return error(
        .mergeMismatch, "`shortcut: auto` cannot map \(formatShape(x)) onto the body's \(formatShape(t)) with a strided 1x1 conv",
        at: node.range, notes: [.init("write the shortcut's layers out instead of `auto`")])
    }
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
    if let window = resolved.window, node.op.isWindowed, let input, pattern.extents.count == shape.count, !resolved.elided {
      let names = axisNames(rank: shape.count)
      for axis in 0..<window.kernel.count {
        if case .value(let v) = pattern.extents[axis], try value(v) != shape[axis] {
          notes.append(.init("\(names[axis]): \(window.arithmetic(input[axis], axis: axis))"))
        }
      }
      var claimed: [Int] = []
      for extent in pattern.extents.prefix(window.kernel.count) {
        guard case .value(let v) = extent else { break }
        claimed.append(try value(v))
      }
      if claimed.count == window.kernel.count,
        let mistake = windowMistake(claimed, window, input: input, actual: Array(shape.prefix(claimed.count)))
      {
        notes.append(.init(mistake))
      }
    }
    let what = isOutput ? "the network's output" : "`\(node.name)`"
    throw DiagnosticError([
      .error(
        .expectationFailed, "\(what) is \(formatShape(shape)), not \(expectedText.joined(separator: "x"))", at: pattern.range, notes: notes)
    ])
  }
}

/// The likely mistake behind a wrong output extent of a window op: padding on one side
/// only or not at all, the stride left out, floor and ceil swapped, or the `+ 1` of the
/// formula missing or doubled; nil when none gives the extents claimed.
func windowMistake(_ claimed: [Int], _ window: Window, input: [Int], actual: [Int]) -> String? {
  func extents(_ change: (inout Window) -> Void) -> [Int] {
    var w = window
    change(&w)
    return (0..<claimed.count).map { w.outputExtent(input[$0], axis: $0) ?? 0 }
  }
  let candidates: [(String, [Int])] = [
    ("padding is added on both sides", extents { $0.padEnd = $0.padEnd.map { _ in 0 } }),
    ("the padding is left out", extents { w in (w.padBegin, w.padEnd) = (w.padBegin.map { _ in 0 }, w.padEnd.map { _ in 0 }) }),
    ("the stride is left out", extents { $0.stride = $0.stride.map { _ in 1 } }),
    (
      window.rounding == .floor ? "the division rounds down (floor), not up" : "`round ceil` rounds the division up",
      extents { $0.rounding = $0.rounding == .floor ? .ceil : .floor }
    ),
    ("the `+ 1` of the extent formula is missing", actual.map { $0 - 1 }),
    ("the `+ 1` of the extent formula is added twice", actual.map { $0 + 1 }),
  ]
  let found = candidates.filter { $0.1 == claimed && $0.1 != actual }.map(\.0)
  guard !found.isEmpty else { return nil }
  return "likely mistake: " + found.joined(separator: "; or ")
}
