import NetcDiagnostics
import NetcIR

/// One node's shape and figures as expressions in the free vars; nil where no exact
/// expression exists (ceil rounding or an auto shortcut whose shapes depend on vars).
public struct SymbolicNode: Sendable {
  /// The output shape.
  public var shape: [SymExpr]?
  /// Parameters, buffers, MACs and activations.
  public var params: SymExpr?, buffers: SymExpr?, macs: SymExpr?, activations: SymExpr?
}

/// `analyze` for a spec with free vars: each node's shape and figures in terms of them.
public struct SymbolicAnalysis: Sendable {
  /// The graph analysed.
  public var graph: Graph
  /// The vars left free, in declaration order.
  public var free: [String]
  /// Per node, in graph order.
  public var nodes: [SymbolicNode]
  /// The sums over all nodes (nil where a node's figure is unknown).
  public var totals: SymbolicNode
}

/// Infers shapes and costs symbolically, with `bindings` substituted, every expression
/// simplified as far as is exact. Floor divisions stay as they are: `⌊(205 - k)/3⌋ + 1`.
public func analyzeSymbolic(_ graph: Graph, bindings: [String: Int], free: [String]) throws(DiagnosticError) -> SymbolicAnalysis {
  try verify(graph)
  try checkBindings(graph, bindings)
  let subst = bindings.mapValues { SymExpr.const($0) }
  func e(_ v: SymValue) -> SymExpr { v.expr.substituting(subst).simplified }
  func s(_ x: SymExpr) -> SymExpr { x.simplified }
  func prod(_ xs: [SymExpr]) -> SymExpr { s(xs.dropFirst().reduce(xs.first ?? .const(1)) { .mul($0, $1) }) }

  var nodes: [SymbolicNode] = []
  for node in graph.nodes {
    var out = SymbolicNode()
    let a = node.attributes
    let inputs = node.inputs.map { nodes[$0].shape }
    defer { nodes.append(out) }
    if node.op == .input {
      out.shape = graph.inputShape.map(e)
      out.params = .const(0); out.buffers = .const(0); out.macs = .const(0)
      out.activations = .const(0)
      continue
    }
    guard !inputs.contains(where: { $0 == nil }), let x = inputs.first ?? nil else { continue }
    var params: SymExpr = .const(0), buffers: SymExpr = .const(0), macs: SymExpr = .const(0)
    switch node.op {
    case .input: break
    case .conv, .dwconv, .pwconv, .maxpool, .avgpool:
      guard x.count >= 2 else { continue }
      let axes = x.count - 1
      let cin = x[axes]
      if let t = a.shortcutTarget {
        // The projection is the identity when the shapes are the same expressions.
        guard let target = nodes[t].shape, target.map(s) == x.map(s) else { continue }
        out.shape = x
        out.params = .const(0); out.buffers = .const(0); out.macs = .const(0); out.activations = .const(0)
        continue
      }
      func perAxis(_ v: [SymValue], _ d: [SymExpr]) -> [SymExpr]? {
        if v.isEmpty { return d }
        if v.count == 1 { return Array(repeating: e(v[0]), count: axes) }
        return v.count == axes ? v.map(e) : nil
      }
      guard let k = perAxis(a.kernel, []), k.count == axes else { continue }
      let isPool = OpKind.pools.contains(node.op)
      guard let st = perAxis(a.stride, isPool ? k : Array(repeating: .const(1), count: axes)),
        let dil = perAxis(a.dilation, Array(repeating: .const(1), count: axes))
      else { continue }
      var spatial: [SymExpr] = []
      var exact = true
      for i in 0..<axes {
        switch a.padding {
        case .same:
          spatial.append(s(.floorDiv(.add(x[i], .sub(st[i], .const(1))), st[i])))
        case .explicit(let b, let en):
          guard let pb = perAxis(b, Array(repeating: .const(0), count: axes)),
            let pe = perAxis(en, Array(repeating: .const(0), count: axes))
          else {
            exact = false
            continue
          }
          let num: SymExpr = .sub(.sub(.add(.add(x[i], pb[i]), pe[i]), .mul(dil[i], .sub(k[i], .const(1)))), .const(1))
          if isPool && a.rounding == .ceil {
            // The dropped last window has no closed form: only concrete values.
            let vals = [x[i], k[i], st[i], pb[i], pe[i], dil[i]].map { s($0).constant }
            guard let xi = vals[0], let ki = vals[1], let si = vals[2], let pbi = vals[3], let pei = vals[4], let di = vals[5],
              let o = windowExtent(input: xi, kernel: ki, stride: si, padBegin: pbi, padEnd: pei, dilation: di, rounding: .ceil)
            else { exact = false; continue }
            spatial.append(.const(o))
          } else {
            spatial.append(s(.add(.floorDiv(num, st[i]), .const(1))))
          }
        }
      }
      guard exact else { continue }
      var cout = cin
      var groups: SymExpr = cin
      switch node.op {
      case .conv, .pwconv:
        guard let c = a.count else { continue }
        cout = e(c)
        groups = a.groups.map(e) ?? .const(1)
      case .dwconv:
        cout = s(.mul(cin, a.count.map(e) ?? .const(1)))
      default: break
      }
      out.shape = spatial + [cout]
      if node.op.isConvolution {
        let weights = prod(k + [s(.floorDiv(cin, groups)), cout])
        params = s(a.bias ? .add(weights, cout) : weights)
        macs = prod([weights] + spatial)
      }
    case .gap, .gmp:
      guard x.count >= 2 else { continue }
      out.shape = Array(repeating: .const(1), count: x.count - 1) + [x[x.count - 1]]
    case .fc:
      guard x.count == 1, let c = a.count else { continue }
      let units = e(c)
      out.shape = [units]
      let weights = prod([x[0], units])
      params = s(a.bias ? .add(weights, units) : weights)
      macs = weights
    case .flatten:
      out.shape = [prod(x)]
    case .bn:
      out.shape = x
      if a.shortcutTarget == nil || nodes[node.inputs[0]].params != .const(0) {
        params = s(.mul(.const(2), x.last ?? .const(0)))
        buffers = params
      }
    case .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .identity, .leakyrelu, .dropout, .add:
      out.shape = x
    case .concat:
      var c = x.last ?? .const(0)
      for other in inputs.dropFirst() { c = .add(c, other!.last ?? .const(0)) }
      out.shape = x.dropLast() + [s(c)]
    }
    out.params = params
    out.buffers = buffers
    out.macs = macs
    out.activations = out.shape.map(prod)
  }
  func total(_ get: (SymbolicNode) -> SymExpr?) -> SymExpr? {
    var sum: SymExpr = .const(0)
    for n in nodes {
      guard let v = get(n) else { return nil }
      sum = .add(sum, v)
    }
    return sum.simplified
  }
  let totals = SymbolicNode(
    shape: nodes.last?.shape, params: total(\.params), buffers: total(\.buffers), macs: total(\.macs), activations: total(\.activations))
  return SymbolicAnalysis(graph: graph, free: free, nodes: nodes, totals: totals)
}
