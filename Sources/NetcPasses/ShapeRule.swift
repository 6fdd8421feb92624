import NetcIR

/// A node's integer attributes, evaluated in a rule's numbers: the vars bound (`Int`) or
/// substituted (`SymExpr`).
struct RuleAttributes<N: RuleNumber> {
  var kernel: [N] = []
  var stride: [N] = []
  var dilation: [N] = []
  /// `pad same`: the amounts follow from the input.
  var same = false
  var padBegin: [N] = []
  var padEnd: [N] = []
  var count: N?
  var groups: N?
  var rounding: Rounding = .floor
  /// The node is the projection (or its BN) of `shortcut: auto`.
  var isProjection = false
  /// The integer attributes of the newer ops.
  var integers: [IntegerAttribute: [N]] = [:]
  /// A sinusoidal position embedding (no table).
  var sinusoidal = false
  /// `take`'s token, `slice`'s part.
  var index = 0
  /// Whether the node shares another's weight.
  var tied = false

  /// The single value of an integer attribute, if given.
  func integer(_ key: IntegerAttribute) -> N? { integers[key]?.first }
}

/// Which per-axis attribute a failure is about.
enum WindowAttribute: Sendable {
  case kernel, stride, dilation, padBegin, padEnd
}

/// The window of a conv or pool in a rule's numbers. The padding is nil where it cannot be
/// written in them (`same` padding of symbolic extents).
struct RuleWindow<N: RuleNumber>: Sendable {
  var kernel: [N]
  var stride: [N]
  var padBegin: [N]?
  var padEnd: [N]?
  var dilation: [N]
  var rounding: Rounding
}

/// What a rule settles about a node: its shape and what its costs need.
struct RuleShape<N: RuleNumber> {
  var shape: [N]
  var window: RuleWindow<N>?
  var inChannels: N = .constant(0)
  var outChannels: N = .constant(0)
  var groups: N = .constant(1)
  /// The projection of `shortcut: auto` (or its BN) where the shapes already match.
  var elided = false
  /// The output is token ids (the network's input declared as `T tokens`).
  var tokens = false
  /// The op has no tensors although its kind may (a sinusoidal position embedding).
  var noParameters = false
  /// Attention: query heads, key/value heads, the width of one head, and the length and
  /// width of the sequence keys and values come from (the input's, or `cross`'s).
  var heads: N = .constant(0), kvHeads: N = .constant(0), headDim: N = .constant(0)
  var memoryLength: N = .constant(0), memoryChannels: N = .constant(0)
  /// A transposed conv's input extents (its MACs run over them).
  var inputSpatial: [N] = []
  /// A node of a mixture's expert: the experts there are and those each token runs.
  var experts: N = .constant(1), activeExperts: N = .constant(1)
  /// The weight is another node's (`tie`): counted there.
  var tiedWeight = false
}

/// Why a node's shape cannot be formed, with what a message needs; concrete inference
/// renders it, the solver ranks it, the symbolic analysis leaves the node unknown.
enum ShapeFailure<N: RuleNumber>: Error {
  /// The input's rank does not suit the op (`OpDefinition.inputRank`).
  case rank
  /// A per-axis attribute has neither one value nor one per spatial axis.
  case axisCount(WindowAttribute)
  /// A stride, dilation or kernel extent below 1.
  case windowBelowOne(WindowAttribute, Int)
  /// Explicit padding below 0.
  case negativePadding(Int)
  /// `same` padding along `axis` overflows.
  case samePaddingOverflow(axis: Int)
  /// The output extent along `axis` overflows.
  case extentOverflow(axis: Int, RuleWindow<N>)
  /// The output extent along `axis` is below 1.
  case extentBelowOne(axis: Int, RuleWindow<N>)
  /// Extent `index` of the network's input below 1.
  case inputBelowOne(index: Int, Int)
  /// Groups, filters, units or the depth multiplier below 1.
  case countBelowOne(groups: Bool, Int)
  /// Input channels or filters do not divide by the groups.
  case groupsMismatch(inChannels: Int, outChannels: Int, groups: Int)
  /// An arithmetic overflow, with the operation that overflowed (`a * b`).
  case overflow(String)
  /// Input `index` of a merge does not fit the first.
  case mergeMismatch(index: Int)
  /// `shortcut: auto` has no target shape.
  case missingTarget
  /// `shortcut: auto` cannot project across ranks.
  case projectionRank(target: [N])
  /// `shortcut: auto` finds no stride of a 1x1 conv that maps the input onto the target.
  case projectionStride(target: [N])
  /// The figure has no closed form in these numbers (ceil rounding of symbolic extents).
  case noClosedForm
  /// Token ids reach an op other than `embed`.
  case tokenIDs
  /// `embed` on something other than token ids.
  case notTokens
  /// A sequence of `length` positions meets a learned table of `table`.
  case sequenceTooLong(length: N, table: N)
  /// `take index` outside a sequence of `length`.
  case indexOutOfRange(index: Int, length: Int)
  /// Attention heads that do not divide the width, or key/value heads that do not divide
  /// the heads.
  case headsMismatch(width: Int, heads: Int)
  case kvHeadsMismatch(heads: Int, kvHeads: Int)
  /// Input `index` of a product does not broadcast against the others.
  case broadcastMismatch(index: Int)
  /// Channels that do not split into `parts` equal parts (shuffle groups, split branches).
  case channelSplit(channels: Int, parts: Int)
  /// A transposed conv's output padding not below its stride or dilation.
  case outputPaddingTooLarge(axis: Int, outputPadding: Int, stride: Int, dilation: Int)
  /// A transposed conv's output extent below 1.
  case transposedExtentBelowOne(axis: Int, extent: Int)
  /// More experts per token than experts.
  case topKAboveExperts(top: Int, experts: Int)
  /// An option the op cannot take in this form (`pad same` on a transposed conv).
  case unsupported(String)
}

/// The shape rule of every op, written once: `input` the input shapes, `attributes` the
/// node's values, `target` the shape `shortcut: auto` must match, `inputElided` whether the
/// first input is an elided projection. `inputShape` is the network's input for `.input`.
@_specialize(where N == Int)
func shapeRule<N: RuleNumber>(
  _ op: OpKind, _ a: RuleAttributes<N>, inputs: [[N]], inputShape: [N], target: [N]?, inputElided: Bool,
  inputTokens: Bool = false, tokenInput: Bool = false
) -> Result<RuleShape<N>, ShapeFailure<N>> {
  let result = baseShapeRule(
    op, a, inputs: inputs, inputShape: inputShape, target: target, inputElided: inputElided, inputTokens: inputTokens,
    tokenInput: tokenInput)
  guard case .success(var r) = result else { return result }
  if let overflow = r.shape.ruleProduct().overflow { return .failure(.overflow(overflow)) }
  if let e = a.integer(.experts) {
    r.experts = e
    r.activeExperts = a.integer(.topK) ?? .constant(1)
  }
  r.tiedWeight = a.tied
  return .success(r)
}

@_specialize(where N == Int)
private func baseShapeRule<N: RuleNumber>(
  _ op: OpKind, _ a: RuleAttributes<N>, inputs: [[N]], inputShape: [N], target: [N]?, inputElided: Bool,
  inputTokens: Bool, tokenInput: Bool
) -> Result<RuleShape<N>, ShapeFailure<N>> {
  if op != .input {
    if inputTokens && op != .embed { return .failure(.tokenIDs) }
    switch op.definition.inputRank {
    case .any: break
    case .spatial: if inputs[0].count < 2 { return .failure(.rank) }
    case .vector: if inputs[0].count != 1 { return .failure(.rank) }
    case .sequence: if inputs[0].count != 2 { return .failure(.rank) }
    case .tokens: if !inputTokens { return .failure(.notTokens) }
    }
  }
  switch op {
  case .input:
    for (i, e) in inputShape.enumerated() { if let v = e.known, v < 1 { return .failure(.inputBelowOne(index: i, v)) } }
    var r = RuleShape(shape: inputShape)
    r.tokens = tokenInput
    return .success(r)

  case .conv, .dwconv, .pwconv, .maxpool, .avgpool:
    let x = inputs[0]
    if a.isProjection { return projectionRule(x, target) }
    return windowRule(op, a, x)

  case .gap, .gmp:
    let x = inputs[0]
    return .success(RuleShape(shape: Array(repeating: .constant(1), count: x.count - 1) + [x[x.count - 1]]))

  case .fc:
    let x = inputs[0]
    guard let units = a.count else { return .failure(.countBelowOne(groups: false, 0)) }
    if let u = units.known, u < 1 { return .failure(.countBelowOne(groups: false, u)) }
    return .success(RuleShape(shape: [units], inChannels: x[0], outChannels: units))

  case .flatten:
    let (n, overflow) = inputs[0].ruleProduct()
    guard let n else { return .failure(.overflow(overflow ?? "")) }
    return .success(RuleShape(shape: [n.normalized]))

  case .bn where a.isProjection:
    // The BN after the projection conv goes with it: identity when the conv is.
    let x = inputs[0]
    let c = x.last ?? .constant(0)
    return .success(RuleShape(shape: x, inChannels: c, outChannels: c, groups: .constant(1), elided: inputElided))

  case .bn, .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .identity, .leakyrelu, .dropout, .silu, .hardswish, .hardsigmoid,
    .droppath, .layernorm, .rmsnorm, .layerscale:
    let x = inputs[0]
    let c = x.last ?? .constant(0)
    return .success(RuleShape(shape: x, inChannels: c, outChannels: c))

  case .linear, .router:
    let x = inputs[0]
    guard let units = a.count else { return .failure(.countBelowOne(groups: false, 0)) }
    if let u = units.known, u < 1 { return .failure(.countBelowOne(groups: false, u)) }
    if op == .router, let k = a.integer(.topK)?.known, let e = units.known, k > e {
      return .failure(.topKAboveExperts(top: k, experts: e))
    }
    return .success(RuleShape(shape: x.dropLast() + [units], inChannels: x[x.count - 1], outChannels: units))

  case .embed:
    let x = inputs[0]
    guard let width = a.count, let vocab = a.integer(.vocab) else { return .failure(.countBelowOne(groups: false, 0)) }
    return .success(RuleShape(shape: x + [width], inChannels: vocab, outChannels: width))

  case .posembed, .typeembed:
    let x = inputs[0]
    var r = RuleShape(shape: x, outChannels: x[1])
    if op == .posembed && a.sinusoidal {
      r.noParameters = true
      return .success(r)
    }
    guard let table = a.count else { return .failure(.countBelowOne(groups: false, 0)) }
    if op == .posembed, let t = x[0].known, let n = table.known, t > n { return .failure(.sequenceTooLong(length: x[0], table: table)) }
    r.inChannels = table
    return .success(r)

  case .clstoken:
    let x = inputs[0]
    guard let t = x[0].plus(.constant(1)) else { return .failure(.overflow("\(x[0]) + 1")) }
    return .success(RuleShape(shape: [t.normalized, x[1]], outChannels: x[1]))

  case .tokens:
    let x = inputs[0]
    let (n, overflow) = Array(x.dropLast()).ruleProduct()
    guard let n else { return .failure(.overflow(overflow ?? "")) }
    return .success(RuleShape(shape: [n.normalized, x[x.count - 1]]))

  case .take:
    let x = inputs[0]
    if let t = x[0].known, a.index >= t || a.index < -t { return .failure(.indexOutOfRange(index: a.index, length: t)) }
    return .success(RuleShape(shape: [x[1]]))

  case .attention:
    return attentionRule(a, inputs)

  case .upsample:
    let x = inputs[0]
    let axes = x.count - 1
    var spatial: [N] = []
    if let size = a.integers[.size] {
      guard let s = perAxis(size, axes, default: []), s.count == axes else { return .failure(.axisCount(.kernel)) }
      spatial = s
    } else {
      let scale = a.count ?? .constant(2)
      for i in 0..<axes {
        guard let e = x[i].times(scale) else { return .failure(.overflow("\(x[i]) * \(scale)")) }
        spatial.append(e.normalized)
      }
    }
    return .success(RuleShape(shape: spatial + [x[axes]]))

  case .pad:
    let x = inputs[0]
    let axes = x.count - 1
    let zero = Array(repeating: N.constant(0), count: axes)
    guard let b = perAxis(a.padBegin, axes, default: zero) else { return .failure(.axisCount(.padBegin)) }
    guard let e = perAxis(a.padEnd, axes, default: zero) else { return .failure(.axisCount(.padEnd)) }
    var spatial: [N] = []
    for i in 0..<axes {
      guard let v = x[i].plus(b[i])?.plus(e[i]) else { return .failure(.overflow("\(x[i]) + \(b[i]) + \(e[i])")) }
      spatial.append(v.normalized)
    }
    return .success(RuleShape(shape: spatial + [x[axes]]))

  case .shuffle, .slice:
    let x = inputs[0]
    let c = x[x.count - 1]
    guard let parts = a.count else { return .failure(.countBelowOne(groups: false, 0)) }
    if let g = parts.known, g < 1 { return .failure(.countBelowOne(groups: false, g)) }
    if let cv = c.known, let g = parts.known, cv % g != 0 { return .failure(.channelSplit(channels: cv, parts: g)) }
    if op == .shuffle { return .success(RuleShape(shape: x)) }
    guard let part = c.floorDivided(by: parts) else { return .failure(.overflow("\(c) / \(parts)")) }
    return .success(RuleShape(shape: x.dropLast() + [part.normalized]))

  case .deconv:
    return deconvRule(a, inputs[0])

  case .mul:
    var out = inputs[0]
    for (i, other) in inputs.enumerated().dropFirst() {
      guard let b = broadcast(out, other) else { return .failure(.broadcastMismatch(index: i)) }
      out = b
    }
    return .success(RuleShape(shape: out))

  case .moe:
    // Inputs: the router's scores, the expert's output, the mixture's input.
    let body = inputs[1], x = inputs[2]
    if body != x { return .failure(.mergeMismatch(index: 1)) }
    return .success(RuleShape(shape: body))

  case .add:
    let first = inputs[0]
    for (i, other) in inputs.enumerated().dropFirst() where other != first { return .failure(.mergeMismatch(index: i)) }
    return .success(RuleShape(shape: first))

  case .concat:
    let first = inputs[0]
    var channels = first.last ?? .constant(0)
    for (i, other) in inputs.enumerated().dropFirst() {
      guard other.count == first.count, other.dropLast() == first.dropLast() else { return .failure(.mergeMismatch(index: i)) }
      guard let c = channels.plus(other.last!) else { return .failure(.overflow("\(channels) + \(other.last!)")) }
      channels = c
    }
    return .success(RuleShape(shape: first.dropLast() + [channels.normalized]))
  }
}

/// One value for every axis, or one per axis; nil for the wrong count. The default is
/// built only when used: the solver's inner loop gives every value.
private func perAxis<N>(_ values: [N], _ axes: Int, default d: @autoclosure () -> [N]) -> [N]? {
  if values.isEmpty { return d() }
  if values.count == 1 { return Array(repeating: values[0], count: axes) }
  return values.count == axes ? values : nil
}

/// Convolutions and pools: the window along every spatial axis, then the channels.
@_specialize(where N == Int)
private func windowRule<N: RuleNumber>(_ op: OpKind, _ a: RuleAttributes<N>, _ x: [N]) -> Result<RuleShape<N>, ShapeFailure<N>> {
  let axes = x.count - 1
  let cin = x[axes]
  let ones = Array(repeating: N.constant(1), count: axes)
  guard let kernel = perAxis(a.kernel, axes, default: []), kernel.count == axes else { return .failure(.axisCount(.kernel)) }
  guard let stride = perAxis(a.stride, axes, default: op.isPool ? kernel : ones) else { return .failure(.axisCount(.stride)) }
  guard let dilation = perAxis(a.dilation, axes, default: ones) else { return .failure(.axisCount(.dilation)) }
  // Plain loops: a literal array of pairs and lazy views cost generic metadata lookups in
  // the solver's inner loop.
  func firstBelow(_ bound: Int, _ values: [N]) -> Int? {
    for v in values { if let k = v.known, k < bound { return k } }
    return nil
  }
  if let bad = firstBelow(1, stride) { return .failure(.windowBelowOne(.stride, bad)) }
  if let bad = firstBelow(1, dilation) { return .failure(.windowBelowOne(.dilation, bad)) }
  if let bad = firstBelow(1, kernel) { return .failure(.windowBelowOne(.kernel, bad)) }
  let rounding = op.isPool ? a.rounding : .floor
  var window = RuleWindow(kernel: kernel, stride: stride, padBegin: nil, padEnd: nil, dilation: dilation, rounding: rounding)
  if a.same {
    // TensorFlow's: out = ceil(in / stride), total padding max((out-1)*stride +
    // (k-1)*dilation + 1 - in, 0), the odd unit at the end. Symbolic extents keep only
    // the output extent, which needs no max.
    if N.hasSamePadding {
      var begin: [N] = [], end: [N] = []
      for i in 0..<axes {
        guard let pads = samePadding(x[i], kernel[i], stride[i], dilation[i]) else { return .failure(.samePaddingOverflow(axis: i)) }
        begin.append(pads.begin)
        end.append(pads.end)
      }
      window.padBegin = begin
      window.padEnd = end
    }
  } else {
    let zero = Array(repeating: N.constant(0), count: axes)
    guard let b = perAxis(a.padBegin, axes, default: zero) else { return .failure(.axisCount(.padBegin)) }
    guard let e = perAxis(a.padEnd, axes, default: zero) else { return .failure(.axisCount(.padEnd)) }
    if let bad = firstBelow(0, b) ?? firstBelow(0, e) { return .failure(.negativePadding(bad)) }
    window.padBegin = b
    window.padEnd = e
  }
  var spatial: [N] = []
  spatial.reserveCapacity(axes + 1)
  for i in 0..<axes {
    if window.padBegin == nil {
      guard let out = stride[i].minus(.constant(1)).flatMap({ x[i].plus($0) })?.floorDivided(by: stride[i]) else {
        return .failure(.samePaddingOverflow(axis: i))
      }
      spatial.append(out.normalized)
      continue
    }
    guard let extent = windowOutputExtent(x[i], window, axis: i) else {
      if N.hasSamePadding { return .failure(.extentOverflow(axis: i, window)) }
      return .failure(.noClosedForm)
    }
    if let v = extent.known, v < 1 { return .failure(.extentBelowOne(axis: i, window)) }
    spatial.append(extent)
  }
  var r = RuleShape<N>(shape: [], window: window)
  r.inChannels = cin
  switch op {
  case .conv, .pwconv:
    let groups = a.groups ?? .constant(1)
    guard let cout = a.count else { return .failure(.countBelowOne(groups: false, 0)) }
    if let g = groups.known, g < 1 { return .failure(.countBelowOne(groups: true, g)) }
    if let c = cout.known, c < 1 { return .failure(.countBelowOne(groups: false, c)) }
    if let c = cin.known, let o = cout.known, let g = groups.known, c % g != 0 || o % g != 0 {
      return .failure(.groupsMismatch(inChannels: c, outChannels: o, groups: g))
    }
    r.outChannels = cout
    r.groups = groups
  case .dwconv:
    let multiplier = a.count ?? .constant(1)
    if let m = multiplier.known, m < 1 { return .failure(.countBelowOne(groups: false, m)) }
    guard let cout = cin.times(multiplier) else { return .failure(.overflow("\(cin) * \(multiplier)")) }
    r.outChannels = cout.normalized
    r.groups = cin
  case .maxpool, .avgpool:
    r.outChannels = cin
    r.groups = cin
  case .input, .gap, .gmp, .fc, .flatten, .bn, .relu, .relu6, .sigmoid, .tanh, .softmax, .gelu, .identity, .leakyrelu, .dropout,
    .add, .concat, .deconv, .linear, .layernorm, .rmsnorm, .silu, .hardswish, .hardsigmoid, .droppath, .layerscale, .embed,
    .posembed, .typeembed, .clstoken, .tokens, .take, .attention, .upsample, .pad, .shuffle, .mul, .router, .moe, .slice:
    preconditionFailure("\(op) is not windowed")
  }
  spatial.append(r.outChannels)
  r.shape = spatial
  return .success(r)
}

/// The output extent along `axis`, or nil on overflow (integers) or where no closed form
/// exists (ceil rounding of symbolic extents):
/// `out = floor_or_ceil((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1`,
/// and with ceil a last window starting past the input and its begin padding dropped.
@_specialize(where N == Int)
func windowOutputExtent<N: RuleNumber>(_ input: N, _ w: RuleWindow<N>, axis i: Int) -> N? {
  guard let pb = w.padBegin?[i], let pe = w.padEnd?[i] else { return nil }
  if w.rounding == .ceil {
    guard let x = input.known, let k = w.kernel[i].known, let s = w.stride[i].known, let b = pb.known, let e = pe.known,
      let d = w.dilation[i].known,
      let o = windowExtent(input: x, kernel: k, stride: s, padBegin: b, padEnd: e, dilation: d, rounding: .ceil)
    else { return nil }
    return .constant(o)
  }
  guard let span = w.kernel[i].minus(.constant(1)).flatMap({ w.dilation[i].times($0) }),
    let padded = input.plus(pb)?.plus(pe), let n1 = padded.minus(span), let numerator = n1.minus(.constant(1)),
    let q = numerator.floorDivided(by: w.stride[i]), let out = q.plus(.constant(1))
  else { return nil }
  return out.normalized
}

/// The projection of `shortcut: auto`: identity when the shapes match, else a 1x1 conv
/// with the stride that maps the input's extents onto the target's.
@_specialize(where N == Int)
private func projectionRule<N: RuleNumber>(_ x: [N], _ target: [N]?) -> Result<RuleShape<N>, ShapeFailure<N>> {
  guard let t = target else { return .failure(.missingTarget) }
  if x == t { return .success(RuleShape(shape: x, elided: true)) }
  guard t.count == x.count else { return .failure(.projectionRank(target: t)) }
  let axes = x.count - 1
  var stride: [N] = []
  for axis in 0..<axes {
    guard let xi = x[axis].known, let ti = t[axis].known else { return .failure(.noClosedForm) }
    // floor((x - 1) / s) + 1 == t: the smallest such s is ceil((x - 1) / t) when it fits.
    let s = ti == 1 ? max(1, xi) : max(1, (xi - 1 + ti - 1) / ti)
    guard (xi - 1) / s + 1 == ti else { return .failure(.projectionStride(target: t)) }
    stride.append(.constant(s))
  }
  let ones = Array(repeating: N.constant(1), count: axes), zeros = Array(repeating: N.constant(0), count: axes)
  let window = RuleWindow(kernel: ones, stride: stride, padBegin: zeros, padEnd: zeros, dilation: ones, rounding: .floor)
  return .success(RuleShape(shape: t, window: window, inChannels: x[axes], outChannels: t[axes], groups: .constant(1)))
}

/// `same` padding along one axis for integers, nil on overflow.
@_specialize(where N == Int)
private func samePadding<N: RuleNumber>(_ input: N, _ kernel: N, _ stride: N, _ dilation: N) -> (begin: N, end: N)? {
  guard let x = input.known, let k = kernel.known, let s = stride.known, let d = dilation.known,
    let pads = NetcPasses.samePadding(input: x, kernel: k, stride: s, dilation: d)
  else { return nil }
  return (.constant(pads.begin), .constant(pads.end))
}

/// NumPy's broadcast of two shapes, aligned at the end: each extent equal, or one of them 1.
@_specialize(where N == Int)
private func broadcast<N: RuleNumber>(_ a: [N], _ b: [N]) -> [N]? {
  let rank = max(a.count, b.count)
  var out: [N] = []
  for i in 0..<rank {
    let x = i < rank - a.count ? N.constant(1) : a[i - (rank - a.count)]
    let y = i < rank - b.count ? N.constant(1) : b[i - (rank - b.count)]
    if x == y || y.known == 1 {
      out.append(x)
    } else if x.known == 1 {
      out.append(y)
    } else {
      // Different extents, neither 1 (or symbolic ones that may differ).
      return nil
    }
  }
  return out
}

/// Multi-head attention on `x` = `[T, d]`, keys and values from `inputs[1]` with `cross`:
/// `heads` query heads of `dim` (default d / heads), `kv` key/value heads dividing them.
@_specialize(where N == Int)
private func attentionRule<N: RuleNumber>(_ a: RuleAttributes<N>, _ inputs: [[N]]) -> Result<RuleShape<N>, ShapeFailure<N>> {
  let x = inputs[0]
  let memory = inputs.count > 1 ? inputs[1] : x
  if memory.count != 2 { return .failure(.rank) }
  let d = x[1]
  guard let heads = a.count else { return .failure(.countBelowOne(groups: false, 0)) }
  if let h = heads.known, h < 1 { return .failure(.countBelowOne(groups: false, h)) }
  let kv = a.integer(.kvHeads) ?? heads
  if let h = heads.known, let k = kv.known, h % k != 0 { return .failure(.kvHeadsMismatch(heads: h, kvHeads: k)) }
  var dim: N
  if let given = a.integer(.headDim) {
    dim = given
  } else {
    if let w = d.known, let h = heads.known, w % h != 0 { return .failure(.headsMismatch(width: w, heads: h)) }
    guard let q = d.floorDivided(by: heads) else { return .failure(.overflow("\(d) / \(heads)")) }
    dim = q.normalized
  }
  var r = RuleShape(shape: x, inChannels: d, outChannels: d)
  r.heads = heads
  r.kvHeads = kv
  r.headDim = dim
  r.memoryLength = memory[0]
  r.memoryChannels = memory[1]
  return .success(r)
}

/// A transposed conv along every spatial axis:
/// `out = (in-1)*stride - pad_begin - pad_end + dilation*(k-1) + outpad + 1`, PyTorch's
/// `ConvTranspose`; `outpad` below the stride or the dilation.
@_specialize(where N == Int)
private func deconvRule<N: RuleNumber>(_ a: RuleAttributes<N>, _ x: [N]) -> Result<RuleShape<N>, ShapeFailure<N>> {
  let axes = x.count - 1
  let cin = x[axes]
  let ones = Array(repeating: N.constant(1), count: axes), zero = Array(repeating: N.constant(0), count: axes)
  if a.same { return .failure(.unsupported("`pad same`")) }
  guard let kernel = perAxis(a.kernel, axes, default: []), kernel.count == axes else { return .failure(.axisCount(.kernel)) }
  guard let stride = perAxis(a.stride, axes, default: ones) else { return .failure(.axisCount(.stride)) }
  guard let dilation = perAxis(a.dilation, axes, default: ones) else { return .failure(.axisCount(.dilation)) }
  guard let b = perAxis(a.padBegin, axes, default: zero) else { return .failure(.axisCount(.padBegin)) }
  guard let e = perAxis(a.padEnd, axes, default: zero) else { return .failure(.axisCount(.padEnd)) }
  guard let outpad = perAxis(a.integers[.outputPadding] ?? [], axes, default: zero) else { return .failure(.axisCount(.kernel)) }
  for values in [stride, dilation, kernel] {
    for v in values { if let k = v.known, k < 1 { return .failure(.windowBelowOne(.stride, k)) } }
  }
  var spatial: [N] = []
  for i in 0..<axes {
    if let o = outpad[i].known, let s = stride[i].known, let d = dilation[i].known, o >= max(s, d) {
      return .failure(.outputPaddingTooLarge(axis: i, outputPadding: o, stride: s, dilation: d))
    }
    guard let grown = x[i].minus(.constant(1))?.times(stride[i]), let span = kernel[i].minus(.constant(1))?.times(dilation[i]),
      let v = grown.minus(b[i])?.minus(e[i])?.plus(span)?.plus(outpad[i])?.plus(.constant(1))
    else { return .failure(.overflow("the transposed conv's output extent")) }
    if let known = v.known, known < 1 { return .failure(.transposedExtentBelowOne(axis: i, extent: known)) }
    spatial.append(v.normalized)
  }
  let groups = a.groups ?? .constant(1)
  guard let cout = a.count else { return .failure(.countBelowOne(groups: false, 0)) }
  if let g = groups.known, g < 1 { return .failure(.countBelowOne(groups: true, g)) }
  if let c = cin.known, let o = cout.known, let g = groups.known, c % g != 0 || o % g != 0 {
    return .failure(.groupsMismatch(inChannels: c, outChannels: o, groups: g))
  }
  var r = RuleShape<N>(
    shape: spatial + [cout],
    window: RuleWindow(kernel: kernel, stride: stride, padBegin: b, padEnd: e, dilation: dilation, rounding: .floor),
    inChannels: cin, outChannels: cout, groups: groups)
  r.inputSpatial = Array(x.dropLast())
  return .success(r)
}
