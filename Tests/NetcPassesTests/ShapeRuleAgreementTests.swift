import Foundation
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import Testing

/// The symbolic analysis and concrete `analyze` share one shape and cost rule; these
/// properties check that they agree: every figure of every node, as an expression in the
/// free vars evaluated at random bindings, equals what `analyze` computes with those vars
/// bound (where `analyze` accepts the bindings).
@Suite struct ShapeRuleAgreementTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static let referenceSpecs: [String] = {
    let dir = root.appendingPathComponent("specs")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return files.filter { $0.hasSuffix(".yaml") }.sorted()
  }()

  /// Evaluates `e` at `bindings`, nil where the expression has no value.
  static func value(_ e: SymExpr?, _ bindings: [String: Int]) -> Int? { try? e?.evaluate(bindings) }

  /// Checks every node of `graph` at `bindings`: each figure the symbolic analysis gives
  /// (nil means it has no closed form there, as with ceil rounding of var extents) equals
  /// the concrete one. Returns how many figures were compared, nil when `analyze` rejects
  /// the bindings.
  @discardableResult
  static func agree(_ graph: Graph, _ symbolic: SymbolicAnalysis, at bindings: [String: Int], _ label: String) -> Int? {
    guard let concrete = try? analyze(graph, bindings: bindings) else { return nil }
    var compared = 0
    func same(_ e: SymExpr?, _ c: Int, _ what: String, _ node: Node) {
      guard let e else { return }
      compared += 1
      #expect(value(e, bindings) == c, "\(what) of \(label) `\(node.name)` at \(bindings): \(e)")
    }
    for node in graph.nodes {
      let s = symbolic.nodes[node.id], c = concrete.costs.nodes[node.id]
      if let shape = s.shape {
        compared += 1
        #expect(
          shape.map { value($0, bindings) } == concrete.shapes[node.id].map { Optional($0) },
          "shape of \(label) `\(node.name)` at \(bindings)")
      }
      same(s.params, c.params, "params", node)
      same(s.buffers, c.buffers, "buffers", node)
      same(s.macs, c.macs, "MACs", node)
      same(s.activations, c.activations, "activations", node)
    }
    return compared
  }

  @Test("every reference spec: the symbolic figures are the concrete ones", arguments: referenceSpecs)
  func referenceSpec(_ file: String) throws {
    let sample = try SpecSample(file: file, solutions: 50, random: 200)
    let symbolic = try analyzeSymbolic(sample.graph, bindings: sample.repeated, free: sample.free)
    if sample.free.isEmpty {
      // Without vars every figure has a value: 5 per node.
      #expect(Self.agree(sample.graph, symbolic, at: [:], file) == 5 * sample.graph.nodes.count)
      return
    }
    let accepted = sample.bindings.filter { b in (Self.agree(sample.graph, symbolic, at: b, file) ?? 0) > 0 }.count
    #expect(accepted > 0, "no random binding of \(file) was accepted by analyze")
  }

  /// Random chains of window ops whose kernel, stride, padding, dilation and counts are vars.
  @Test("random specs with vars in every window attribute")
  func randomSpecs() throws {
    // Some random specs admit no binding at all (groups that divide nothing): most must.
    let checked = try (0..<40).filter { try Self.randomSpec($0) }
    #expect(checked.count >= 30, "only \(checked.count) of 40 random specs had a binding analyze accepts")
  }

  /// One random spec checked at 150 random bindings; whether any was accepted.
  static func randomSpec(_ seed: Int) throws -> Bool {
    var rng = SeededGenerator(seed: UInt64(seed) &+ 1)
    func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
    var layers: [String] = []
    for i in 0..<(2 + Int(rng.next() % 4)) {
      layers.append(
        pick([
          "CONV$k\(i)-$c\(i) stride $s\(i) pad $p\(i) dilation $d\(i)", "CONV$k\(i)-$c\(i) pad same stride $s\(i)",
          "DWCONV$k\(i) pad $p\(i) stride $s\(i)", "PWCONV-$c\(i) stride $s\(i)", "POOL$k\(i) stride $s\(i) pad $p\(i)",
          "AVGPOOL$k\(i) round ceil", "CONV$k\(i)-$c\(i) groups $g\(i) pad $p\(i)", "BN", "RELU",
        ]))
    }
    layers += pick([["GAP", "FLATTEN", "FC-$c9"], ["FLATTEN", "FC-$c9 bias false"], ["GMP"]])
    // Every `$name` the layers use.
    let vars = Set(
      layers.joined(separator: " ").split(separator: "$").dropFirst().map { String($0.prefix { $0.isLetter || $0.isNumber }) }
    ).sorted()
    let text = specText(
      input: "$h x $w x $c", layers: layers,
      extra: "vars:\n  h: 1..64\n  w: 1..64\n" + (["c"] + vars).map { "  \($0): 1..9\n" }.joined())
    let spec = try parseSpec(text)
    let free = spec.graph.vars.map(\.name)
    let symbolic = try analyzeSymbolic(spec.graph, bindings: [:], free: free)
    var accepted = 0
    for _ in 0..<150 {
      var bindings: [String: Int] = [:]
      for v in free { bindings[v] = 1 + Int(rng.next() % 9) }
      bindings["h"] = 8 + Int(rng.next() % 24)
      bindings["w"] = 8 + Int(rng.next() % 24)
      if let n = Self.agree(spec.graph, symbolic, at: bindings, "random spec \(seed)"), n > 0 { accepted += 1 }
    }
    return accepted > 0
  }
}

/// A small deterministic generator (SplitMix64), so a failure can be rerun.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
