import NetcBackends
import NetcDiagnostics
import NetcIR

/// The tensors of a mixture's routing seen part way, as `netc export --to onnx` writes it
/// (ONNXMixtureSubgraph.swift): the router's logits `[N, E]` into TopK (k = top, the last
/// axis, largest first), Softmax over the picked logits, ScatterElements of those weights
/// at the picked indices into ConstantOfShape zeros of the logits' Shape, one Slice
/// `[e, e + 1)` of that dense weight per expert, its Mul with expert e's output, and the
/// Sum (Identity for one expert). Each entry names the router's layer.
struct MixtureTensors {
  struct Top {
    var router: Int
    var k: Int
  }
  var topValues: [String: Top] = [:]
  var topIndices: [String: Top] = [:]
  var topWeights: [String: Top] = [:]
  var logitShapes: [String: Int] = [:]
  var zeros: [String: Int] = [:]
  var dense: [String: Top] = [:]
  /// A Slice of the dense weight: expert `expert`'s weight.
  var slots: [String: (top: Top, expert: Int)] = [:]
  /// A slot times an expert's output (the layer `output`).
  var weighted: [String: (top: Top, expert: Int, output: Int)] = [:]

  /// Whether `name` is a tensor of a routing not summed yet.
  func contains(_ name: String) -> Bool {
    topValues[name] != nil || topIndices[name] != nil || topWeights[name] != nil || logitShapes[name] != nil
      || zeros[name] != nil || dense[name] != nil || slots[name] != nil || weighted[name] != nil
  }
}

extension ONNXLayerRecognizer {
  /// The op types only a mixture's routing uses: imported there and nowhere else.
  static let mixtureOps: Set<String> = ["ScatterElements", "Shape", "TopK"]

  /// Takes the current node when it is a step of a mixture's routing and returns true;
  /// false for a node that is not (it is read as any other). A step that differs from what
  /// netc writes (another axis, smallest first, a reduction ...) is an error naming it.
  mutating func mixtureStep(_ n: Onnx_NodeProto, _ a: ONNXAttributes) throws(DiagnosticError) -> Bool {
    let reads = n.input.filter { mixture.contains($0) }
    switch n.opType {
    case "TopK":
      try topK(a)
    case "Softmax":
      guard let top = mixture.topValues[n.input.first ?? ""] else {
        if !reads.isEmpty { throw routing("reads `\(reads[0].prefix(80))`; netc's routing takes the softmax of TopK's values") }
        return false
      }
      guard lastAxis(a.int("axis") ?? -1, rank: rank(top)) else {
        throw routing("is over axis \(a.int("axis") ?? -1); netc's routing takes the softmax over the picked experts (the last axis)")
      }
      mixture.topWeights[n.output[0]] = top
    case "Shape":
      // Any other Shape is shape arithmetic (ViT's grid on its way into tokens), read later.
      guard let router = routerOfPendingTop(n.input.first ?? ""), !a.has("start"), !a.has("end") else { return false }
      mixture.logitShapes[n.output[0]] = router
    case "ConstantOfShape":
      guard let router = mixture.logitShapes[n.input.first ?? ""] else { return false }
      if let t = a.tensor("value") {
        let c = try ONNXConstant(t, file: &file)
        guard c.floats.count == 1, c.floats[0] == 0, t.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue) else {
          throw routing("fills with \(c.floats.prefix(4)) of type \(t.dataType); netc's routing scatters into float zeros")
        }
      }
      mixture.zeros[n.output[0]] = router
    case "ScatterElements":
      try scatter(a)
    case "Slice":
      guard let top = mixture.dense[n.input.first ?? ""] else {
        if !reads.isEmpty { throw routing("reads `\(reads[0].prefix(80))`; netc's routing slices only the dense expert weights") }
        return false
      }
      try slot(top)
    case "Mul":
      guard !reads.isEmpty else { return false }
      try weigh()
    case "Sum", "Identity":
      guard !reads.isEmpty else { return false }
      try sumExperts()
    default:
      guard reads.isEmpty else {
        throw routing("reads `\(reads[0].prefix(80))`, a step of a mixture's routing, which netc imports only whole")
      }
      return false
    }
    return true
  }

  /// An NS602 error about a node of a mixture's routing.
  func routing(_ what: String) -> DiagnosticError { unsupported(node: "in a mixture's routing " + what) }

  /// Whether `axis` is the last of a tensor of `rank` (the batch included).
  func lastAxis(_ axis: Int, rank: Int) -> Bool { axis == -1 || axis == rank - 1 }

  /// The rank of a router's logits, the batch included: `[N, E]`, or `[N, T, E]` over a sequence.
  func rank(_ top: MixtureTensors.Top) -> Int { layers[top.router].shape.count + 1 }

  /// The layer `name` is: over a sequence a pending projection (a router's, an expert's
  /// last LINEAR) becomes one now.
  mutating func mixtureLayer(_ name: String) throws(DiagnosticError) -> Int? {
    if let v = values[name] { return v }
    guard sequence, seq[name] != nil else { return nil }
    return try layer(of: name)
  }

  /// The router whose TopK reads `name`, the logits.
  func routerOfPendingTop(_ name: String) -> Int? {
    guard let v = values[name] else { return nil }
    return mixture.topIndices.values.first { $0.router == v }?.router
  }

  mutating func topK(_ a: ONNXAttributes) throws(DiagnosticError) {
    guard let router = try mixtureLayer(node.input.first ?? "") else {
      throw routing("does not read a layer's output; netc imports TopK only of a mixture's router logits")
    }
    let r = layers[router]
    // A bias-free FC of a vector, or a bias-free LINEAR of each position of a sequence.
    let vector = r.op == .fc && r.bias == false && r.shape.count == 1
    let positions = r.op == .linear && r.options.contains("nobias") && r.shape.count == 2 && r.tiedTo == nil
    guard vector || positions, let experts = r.shape.last, experts >= 1 else {
      throw routing(
        "reads `\(r.nodeName.prefix(80))`, which is not a bias-free linear layer; netc's router is one (`[N, E]` or `[N, T, E]` logits)")
    }
    guard node.output.count == 2, !node.output[1].isEmpty else { throw routing("has no indices output") }
    guard let kc = try constantInput(1), kc.floats.count == 1, let k = kc.integers?.first, k >= 1, k <= experts else {
      throw routing("has no constant k from 1 to the \(experts) experts")
    }
    guard lastAxis(a.int("axis") ?? -1, rank: r.shape.count + 1) else {
      throw routing("is over axis \(a.int("axis") ?? -1); netc's routing picks along the experts (the last axis)")
    }
    guard (a.int("largest") ?? 1) == 1 else { throw routing("picks the smallest logits (largest 0); netc's router picks the largest") }
    // `sorted` orders the picks only; the softmax and the scatter by index do not depend on it.
    let top = MixtureTensors.Top(router: router, k: k)
    mixture.topValues[node.output[0]] = top
    mixture.topIndices[node.output[1]] = top
  }

  mutating func scatter(_ a: ONNXAttributes) throws(DiagnosticError) {
    guard node.input.count == 3, let router = mixture.zeros[node.input[0]], let indices = mixture.topIndices[node.input[1]],
      let weights = mixture.topWeights[node.input[2]], indices.router == router, weights.router == router
    else {
      throw routing(
        "does not scatter one router's softmaxed TopK values at its indices into zeros of its logits' shape; netc imports ScatterElements only there"
      )
    }
    guard lastAxis(a.int("axis") ?? 0, rank: rank(weights)) else {
      throw routing("is along axis \(a.int("axis") ?? 0); netc's routing scatters along the experts (the last axis)")
    }
    let reduction = a.string("reduction") ?? "none"
    guard reduction == "none" else { throw routing("has reduction `\(reduction.prefix(20))`; netc's routing scatters with none") }
    mixture.dense[node.output[0]] = weights
  }

  mutating func slot(_ top: MixtureTensors.Top) throws(DiagnosticError) {
    let experts = layers[top.router].shape.last ?? 0
    let starts = try constantInput(1)?.integers, ends = try constantInput(2)?.integers
    let axes = try constantInput(3)?.integers, steps = try constantInput(4)?.integers
    guard let s = starts, let e = ends, s.count == 1, e.count == 1, s[0] >= 0, s[0] < experts, e[0] == s[0] + 1,
      axes.map({ $0.count == 1 && lastAxis($0[0], rank: rank(top)) }) ?? false, steps.map({ $0 == [1] }) ?? true
    else {
      throw routing("is not one expert's weight (a constant [e, e + 1) of the last axis, e below \(experts)); netc slices one expert's")
    }
    mixture.slots[node.output[0]] = (top, s[0])
  }

  mutating func weigh() throws(DiagnosticError) {
    guard node.input.count == 2 else { throw routing("does not multiply two tensors") }
    for (w, y) in [(0, 1), (1, 0)] {
      guard let slot = mixture.slots[node.input[w]] else { continue }
      guard let output = try mixtureLayer(node.input[y]) else {
        throw routing("multiplies an expert's weight by `\(node.input[y].prefix(80))`, which is not a layer's output")
      }
      let input = layers[slot.top.router].inputs[0]
      guard layers[output].shape == layers[input].shape else {
        throw routing(
          "weighs an output of shape \(layers[output].shape); a mixture's expert gives its input's, \(layers[input].shape)")
      }
      mixture.weighted[node.output[0]] = (slot.top, slot.expert, output)
      return
    }
    throw routing("multiplies two steps of a routing; netc multiplies one expert's weight by its output")
  }

  /// The mixture's merge: a layer that reads the router and then each expert's output, in
  /// the experts' order, so that the structure finder sees branches from the mixture's input.
  mutating func sumExperts() throws(DiagnosticError) {
    var parts: [(top: MixtureTensors.Top, expert: Int, output: Int)] = []
    for name in node.input {
      guard let w = mixture.weighted[name] else {
        throw routing("adds `\(name.prefix(80))`, which is not an expert's weighted output; netc sums exactly those")
      }
      parts.append(w)
    }
    let top = parts[0].top
    let experts = layers[top.router].shape.last ?? 0
    guard parts.allSatisfy({ $0.top.router == top.router }), parts.map(\.expert).sorted() == Array(0..<experts) else {
      throw routing("sums experts \(parts.map(\.expert)) of a mixture of \(experts); netc sums each expert once")
    }
    let outputs = parts.sorted { $0.expert < $1.expert }.map(\.output)
    try sameExperts(outputs, input: layers[top.router].inputs[0])
    let input = layers[top.router].inputs[0]
    add(.moe, "MOE", [top.router] + outputs, layers[input].shape, options: ["experts \(experts)", "top \(top.k)"])
  }

  /// Every expert's layers must be expert 0's (netc's experts are one body with stacked
  /// weights): the layers from the mixture's input to each expert's output, in graph order,
  /// each the same layer with the same tensor shapes reading the same earlier positions.
  func sameExperts(_ outputs: [Int], input: Int) throws(DiagnosticError) {
    func body(_ out: Int) throws(DiagnosticError) -> [Int] {
      var seen: Set<Int> = [], stack = out == input ? [] : [out]
      while let i = stack.popLast() {
        guard i > input else {
          throw routing("sums an expert that reads `\(layers[i].nodeName.prefix(80))`, from before the mixture's input")
        }
        if !seen.insert(i).inserted { continue }
        stack += layers[i].inputs.filter { $0 != input }
      }
      return seen.sorted()
    }
    func signature(_ list: [Int]) -> [String] {
      list.map { i in
        let l = layers[i]
        let reads = l.inputs.map { $0 == input ? "in" : list.firstIndex(of: $0).map(String.init) ?? "?" }
        return
          ([l.head] + l.options + [l.bias.map { "\($0)" } ?? "", reads.joined(separator: ",")]
          + l.parameters.map { "\($0.0.rawValue)\($0.1.shape)" }).joined(separator: " ")
      }
    }
    let first = signature(try body(outputs[0]))
    for (k, out) in outputs.enumerated().dropFirst() where signature(try body(out)) != first {
      throw routing(
        "sums expert \(k) (`\(layers[out].nodeName.prefix(80))`), whose layers differ from expert 0's; netc's experts share one body")
    }
  }
}

extension SpecWriter {
  /// A mixture found as a parallel structure whose merge is an `.moe` layer: branch 0 is
  /// the router, the others the experts. Written as `moe:` with expert 0's layers, the
  /// router's weight as `NAME.router.weight` and each expert tensor stacked over the
  /// experts on a leading axis, as `netc run --weights` reads them.
  mutating func mixture(_ merge: Int, _ branches: [[SpecItem]], indent: String, scope: inout Scope) {
    let m = layers[merge]
    var module = m.modulePath
    if let p = module, p.hasSuffix(".moe") { module = String(p.dropLast(4)) }
    let (name, written) = claim(module, mnemonic: "moe", scope: &scope)
    lines.append(indent + "- moe:")
    if written { lines.append(indent + "    name: \(name)") }
    lines.append(indent + "    " + m.options[0].replacing(" ", with: ": "))
    lines.append(indent + "    " + m.options[1].replacing(" ", with: ": "))
    let prefix = scope.prefix + name + "."
    let router = layers[m.inputs[0]]
    for (kind, t) in router.parameters { weights.append((prefix + "router." + kind.rawValue, t)) }
    let experts = Array(branches.dropFirst())
    if experts[0].isEmpty {
      lines.append(indent + "    layers: []")
      return
    }
    lines.append(indent + "    layers:")
    // Each expert's names relative to its own module (`mix.expert.0`); names that differ
    // between experts fall back to netc's defaults, which are alike.
    func commonModule(_ items: [SpecItem]) -> String? {
      // The longest dotted prefix of the modules the expert's layers sit in.
      let all = items.compactMap(modulePath).map { Array($0.split(separator: ".").map(String.init).dropLast()) }
      guard var common = all.first else { return nil }
      for p in all.dropFirst() {
        var k = 0
        while k < min(common.count, p.count) && common[k] == p[k] { k += 1 }
        common = Array(common.prefix(k))
      }
      return common.isEmpty ? nil : common.joined(separator: ".")
    }
    let lineStart = lines.count
    var perExpert: [[(name: String, tensor: Tensor<Float>)]] = []
    for anonymous in [false, true] {
      perExpert = []
      for (k, branch) in experts.enumerated() {
        let weightsBefore = weights.count, linesBefore = lines.count
        var inner = Scope(prefix: prefix + "expert.", module: commonModule(branch), anonymous: anonymous || scope.anonymous)
        write(branch, indent: indent + "      ", scope: &inner)
        perExpert.append(Array(weights[weightsBefore...]))
        weights.removeLast(weights.count - weightsBefore)
        // Expert 0's text stands for all.
        if k > 0 { lines.removeLast(lines.count - linesBefore) }
      }
      let names = perExpert.map { $0.map(\.name) }
      if names.allSatisfy({ $0 == names[0] }) { break }
      lines.removeLast(lines.count - lineStart)
    }
    // A mixture of one expert keeps its tensors without the experts' axis, as netc's.
    if perExpert.count == 1 {
      weights += perExpert[0]
      return
    }
    for (j, (wname, t0)) in perExpert[0].enumerated() {
      var data: [Float] = []
      for e in perExpert { data += e[j].tensor.data }
      weights.append((wname, Tensor(shape: [perExpert.count] + t0.shape, data: data)))
    }
  }
}
