import NetcIR

/// Why a candidate fails at a node, ordered by how far the candidate got: the diagnostic
/// for "no solution" names the furthest stage any candidate reached.
enum StepFailure: Int, Comparable, Error {
  case domain, structure, invalid, extent, groups, expect, condition, budget, outputExpect, finalBudget

  static func < (a: StepFailure, b: StepFailure) -> Bool { a.rawValue < b.rawValue }
}

/// A node's output and the facts costs need: the solver's counterpart of `ResolvedNode`,
/// computed with the same formulas (`windowExtent`, `samePadding`) but no message text.
extension SolverPlan {
  /// Infers node `node` on `inputs` with vars from `env`.
  func step(_ node: Node, _ inputs: [ResolvedNode], target: [Int]?, env: [Int]) -> Result<ResolvedNode, StepFailure> {
    let p = nodes[node.id]
    switch node.op {
    case .input:
      var shape: [Int] = []
      for e in inputShape {
        guard let v = e.evaluate(env), v >= 1 else { return .failure(.invalid) }
        shape.append(v)
      }
      guard product(shape) != nil else { return .failure(.invalid) }
      return .success(ResolvedNode(shape: shape))

    case .conv, .dwconv, .pwconv, .maxpool, .avgpool:
      let x = inputs[0].shape
      guard x.count >= 2 else { return .failure(.structure) }
      let axes = x.count - 1
      let cin = x[axes]
      if node.attributes.shortcutTarget != nil {
        guard let t = target else { return .failure(.structure) }
        return projectionStep(x, t)
      }
      guard let kernel = perAxis(p.kernel, axes, default: [], env: env), kernel.count == axes else { return .failure(.structure) }
      let isPool = OpKind.pools.contains(node.op)
      guard let stride = perAxis(p.stride, axes, default: isPool ? kernel : Array(repeating: 1, count: axes), env: env),
        let dilation = perAxis(p.dilation, axes, default: Array(repeating: 1, count: axes), env: env)
      else { return .failure(.structure) }
      if stride.contains(where: { $0 < 1 }) || dilation.contains(where: { $0 < 1 }) || kernel.contains(where: { $0 < 1 }) {
        return .failure(.invalid)
      }
      var padBegin: [Int], padEnd: [Int]
      if p.same {
        padBegin = []
        padEnd = []
        for a in 0..<axes {
          let s = samePadding(input: x[a], kernel: kernel[a], stride: stride[a], dilation: dilation[a])
          padBegin.append(s.begin)
          padEnd.append(s.end)
        }
      } else {
        let zero = Array(repeating: 0, count: axes)
        guard let b = perAxis(p.padBegin, axes, default: zero, env: env), let e = perAxis(p.padEnd, axes, default: zero, env: env) else {
          return .failure(.structure)
        }
        if b.contains(where: { $0 < 0 }) || e.contains(where: { $0 < 0 }) { return .failure(.invalid) }
        padBegin = b
        padEnd = e
      }
      let rounding = isPool ? node.attributes.rounding : .floor
      var out: [Int] = []
      out.reserveCapacity(axes + 1)
      for a in 0..<axes {
        guard
          let o = windowExtent(
            input: x[a], kernel: kernel[a], stride: stride[a], padBegin: padBegin[a], padEnd: padEnd[a],
            dilation: dilation[a], rounding: rounding), o >= 1
        else { return .failure(.extent) }
        out.append(o)
      }
      var r = ResolvedNode(
        shape: [],
        window: Window(kernel: kernel, stride: stride, padBegin: padBegin, padEnd: padEnd, dilation: dilation, rounding: rounding))
      r.inChannels = cin
      switch node.op {
      case .conv, .pwconv:
        let groups = p.groups == nil ? 1 : p.groups!.evaluate(env)
        guard let groups, let cout = p.count?.evaluate(env), groups >= 1, cout >= 1 else { return .failure(.invalid) }
        if cin % groups != 0 || cout % groups != 0 { return .failure(.groups) }
        r.outChannels = cout
        r.groups = groups
      case .dwconv:
        let m = p.count == nil ? 1 : p.count!.evaluate(env)
        guard let m, m >= 1 else { return .failure(.invalid) }
        let (c, o) = cin.multipliedReportingOverflow(by: m)
        if o { return .failure(.invalid) }
        r.outChannels = c
        r.groups = cin
      default:
        r.outChannels = cin
        r.groups = cin
      }
      r.shape = out + [r.outChannels]
      guard product(r.shape) != nil else { return .failure(.invalid) }
      return .success(r)

    case .gap, .gmp:
      let x = inputs[0].shape
      guard x.count >= 2 else { return .failure(.structure) }
      return .success(ResolvedNode(shape: Array(repeating: 1, count: x.count - 1) + [x[x.count - 1]]))

    case .fc:
      let x = inputs[0].shape
      guard x.count == 1 else { return .failure(.structure) }
      guard let units = p.count?.evaluate(env), units >= 1 else { return .failure(.invalid) }
      var r = ResolvedNode(shape: [units])
      r.inChannels = x[0]
      r.outChannels = units
      return .success(r)

    case .flatten:
      guard let n = product(inputs[0].shape) else { return .failure(.invalid) }
      return .success(ResolvedNode(shape: [n]))

    case .bn where node.attributes.shortcutTarget != nil:
      let x = inputs[0].shape
      return .success(ResolvedNode(shape: x, inChannels: x.last ?? 0, outChannels: x.last ?? 0, groups: 1, elided: inputs[0].elided))

    case .bn, .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .identity, .leakyrelu, .dropout:
      return .success(ResolvedNode(shape: inputs[0].shape))

    case .add:
      let first = inputs[0].shape
      if inputs.dropFirst().contains(where: { $0.shape != first }) { return .failure(.structure) }
      return .success(ResolvedNode(shape: first))

    case .concat:
      let first = inputs[0].shape
      var channels = first.last ?? 0
      for other in inputs.dropFirst() {
        guard other.shape.count == first.count, other.shape.dropLast() == first.dropLast() else { return .failure(.structure) }
        let (c, o) = channels.addingReportingOverflow(other.shape.last!)
        if o { return .failure(.invalid) }
        channels = c
      }
      return .success(ResolvedNode(shape: first.dropLast() + [channels]))
    }
  }

  /// As `ShapeInference.projection`: identity when the shapes match, else a strided 1x1 conv.
  private func projectionStep(_ x: [Int], _ t: [Int]) -> Result<ResolvedNode, StepFailure> {
    if x == t { return .success(ResolvedNode(shape: x, elided: true)) }
    guard t.count == x.count else { return .failure(.structure) }
    let axes = x.count - 1
    var stride: [Int] = []
    for a in 0..<axes {
      let s = t[a] == 1 ? max(1, x[a]) : max(1, (x[a] - 1 + t[a] - 1) / t[a])
      guard (x[a] - 1) / s + 1 == t[a] else { return .failure(.structure) }
      stride.append(s)
    }
    let ones = Array(repeating: 1, count: axes), zeros = Array(repeating: 0, count: axes)
    let window = Window(kernel: ones, stride: stride, padBegin: zeros, padEnd: zeros, dilation: ones, rounding: .floor)
    return .success(ResolvedNode(shape: t, window: window, inChannels: x[axes], outChannels: t[axes], groups: 1))
  }

  /// One value for every axis, or one per axis; nil when unbound or of the wrong count.
  private func perAxis(_ values: [SlotExpr], _ axes: Int, default d: [Int], env: [Int]) -> [Int]? {
    if values.isEmpty { return d }
    if values.count == 1 {
      guard let n = values[0].evaluate(env) else { return nil }
      return Array(repeating: n, count: axes)
    }
    guard values.count == axes else { return nil }
    var out: [Int] = []
    out.reserveCapacity(values.count)
    for v in values {
      guard let n = v.evaluate(env) else { return nil }
      out.append(n)
    }
    return out
  }
}

/// The product of extents, or nil on overflow.
func product(_ values: [Int]) -> Int? {
  var p = 1
  for v in values {
    let (r, o) = p.multipliedReportingOverflow(by: v)
    if o { return nil }
    p = r
  }
  return p
}
