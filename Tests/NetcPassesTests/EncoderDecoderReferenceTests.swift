import Foundation
import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import Testing

/// specs/transformer_base.yaml, a spec of two inputs, against torch.nn.Transformer():
/// totals at several (S, T), the closed form in S and T, and layer by layer. Fixture from
/// scripts/reference/generate_encoder_decoder_fixture.py (random weights, FlopCounterMode).
struct EncoderDecoderReferenceTests {
  struct Fixture: Decodable {
    typealias Layer = ReferenceLayer
    var S: Int
    var T: Int
    var output: [Int]
    var params: Int
    var buffers: Int
    var macs: Int
    var macs_by_length: [String: Int]
    var layers: [Layer]
  }

  static func fixture() throws -> Fixture {
    let url = URL(fileURLWithPath: repositoryPath("Tests/NetcPassesTests/Fixtures/reference/transformer_base.json"))
    return try JSONDecoder().decode(Fixture.self, from: try Data(contentsOf: url))
  }

  static func graph() throws -> Graph { try SpecLoader.load(path: repositoryPath("specs/transformer_base.yaml")).graph }

  /// The published size of nn.Transformer's defaults, so that a wrong generator cannot pass:
  /// attention 4(d² + d), MLP 2·d·ff + ff + d, LayerNorm 2d, d = 512, ff = 2048;
  /// 6·(attention + MLP + 2 LN) + LN + 6·(2 attention + MLP + 3 LN) + LN.
  @Test func fixtureAgreesWithTheFormula() throws {
    let f = try Self.fixture()
    let attn = 4 * (512 * 512 + 512), mlp = 2 * 512 * 2048 + 2048 + 512, ln = 2 * 512
    #expect(f.params == 6 * (attn + mlp + 2 * ln) + ln + 6 * (2 * attn + mlp + 3 * ln) + ln)
    #expect(f.params == 44_140_544)
  }

  @Test func totalsMatchPyTorchAtEveryLength() throws {
    let f = try Self.fixture()
    let g = try Self.graph()
    for (key, macs) in f.macs_by_length {
      let st = key.split(separator: ",").map { Int($0)! }
      let a = try analyze(g, bindings: ["S": st[0], "T": st[1]])
      #expect(a.costs.total.params == f.params)
      #expect(a.costs.total.buffers == f.buffers)
      #expect(a.costs.total.macs == macs, "S, T = \(key)")
      #expect(a.shapes[g.outputID] == [st[1], 512])
    }
  }

  /// MACs with S and T free: one closed form, evaluated at every (S, T) PyTorch ran.
  @Test func closedFormInSAndT() throws {
    let f = try Self.fixture()
    let a = try analyzeSymbolic(try Self.graph(), bindings: [:], free: ["S", "T"])
    #expect(a.totals.params?.constant == f.params)
    let total = try #require(a.totals.macs)
    for (key, macs) in f.macs_by_length {
      let st = key.split(separator: ",").map { Int($0)! }
      #expect(try total.evaluate(["S": st[0], "T": st[1]]) == macs, "S, T = \(key)")
    }
    // The form itself, from closed_form() of the generator: 6·(4d² + 2d·ff)·S + 6·(6d² + 2d·ff)·T,
    // 12d·S² (encoder) and 12d·(T² + S·T) (decoder), d = 512, ff = 2048.
    let d = 512, ff = 2048
    for (s, t) in [(3, 11), (1000, 1), (77, 4096)] {
      let form = 6 * (4 * d * d + 2 * d * ff + 2 * d * d) * s + 6 * (6 * d * d + 2 * d * ff) * t + 12 * d * (s * s + s * t + t * t)
      #expect(try total.evaluate(["S": s, "T": t]) == form)
    }
  }

  /// Each of PyTorch's attention, linear and norm calls against the netc layer it is.
  @Test func layerByLayer() throws {
    let f = try Self.fixture()
    let g = try Self.graph()
    let a = try analyze(g, bindings: ["S": f.S, "T": f.T])
    let counted = g.layers.filter { [.attention, .linear, .layernorm].contains($0.op) }
    try #require(counted.count == f.layers.count)
    for (node, layer) in zip(counted, f.layers) {
      #expect(a.shapes[node.id] == layer.output, "\(node.name) ~ \(layer.module)")
      #expect(a.costs.nodes[node.id].params == layer.params, "\(node.name) ~ \(layer.module)")
      #expect(a.costs.nodes[node.id].macs == layer.macs, "\(node.name) ~ \(layer.module)")
    }
    // The decoder's cross-attention reads the encoder's last norm, as nn.Transformer's memory.
    let cross = g.layers.first { $0.op == .attention && $0.inputs.count == 2 }!
    #expect(g.nodes[cross.inputs[1]].name == "encoder_norm")
  }

  /// A length of the second input bisects as a lone length var once the first is bound:
  /// MACs(S = 512, T) = 6144·T² + 25,165,824·T + 12,884,901,888 (the closed form above), whose
  /// largest T under 10^11 is 2238 (99,979,124,736; T = 2239 gives 100,031,797,248).
  @Test func solveBisectsTheTargetLength() throws {
    let g = try SpecLoader.load(path: repositoryPath("specs/solve-transformer-length.yaml")).graph
    let form = { (t: Int) in 6144 * t * t + 25_165_824 * t + 12_884_901_888 }
    #expect(form(2238) <= 100_000_000_000 && form(2239) > 100_000_000_000)
    let s = try solve(g, options: SolveOptions(fixed: ["S": 512], list: 3))
    #expect(s.interval == 1...2238)
    #expect(s.count == BigCount(2238))
  }

  /// Both lengths free: the largest T for each S under 10^11 MACs, from the closed form
  /// 22,020,096·(S + T) + 6144·(S² + S·T + T²) (FlopCounterMode's figures above), walked here
  /// one S at a time; the solver's staircase must hold exactly those pairs.
  @Test func solveWalksBothLengths() throws {
    let g = try SpecLoader.load(path: repositoryPath("specs/solve-transformer-length.yaml")).graph
    let form = { (s: Int, t: Int) in 22_020_096 * (s + t) + 6144 * (s * s + s * t + t * t) }
    var largest: [Int] = []  // largest[S - 1]: the largest T for S
    var t = 1_000_000
    for s in 1... {
      while t > 0 && form(s, t) > 100_000_000_000 { t -= 1 }
      guard t > 0 else { break }
      largest.append(t)
    }
    let solution = try solve(g, options: SolveOptions(list: 3))
    let region = try #require(solution.region)
    #expect(solution.vars == ["S", "T"])
    #expect(solution.count == BigCount(UInt64(largest.reduce(0, +))))
    var walked: [Int] = []
    for run in region.runs {
      #expect(run.second.lowerBound == 1)
      walked += run.first.map { _ in run.second.upperBound }
    }
    #expect(walked == largest)
    #expect(solution.listed == [[1, 1], [1, 2], [1, 3]])
  }
}
