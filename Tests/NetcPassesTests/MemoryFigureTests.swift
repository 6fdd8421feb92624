import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcTestSupport
import Testing

@testable import NetcPasses

/// Weight bytes, the KV cache and byte budgets, against the anchors' arithmetic
/// (../shared/frontier-anchors.md, section 1c): KV cache = 2 · layers · kv heads · head
/// width · T · bytes.
@Suite struct MemoryFigureTests {
  static func spec(_ name: String) throws -> Graph { try SpecLoader.load(path: repositoryPath("specs/\(name).yaml")).graph }

  @Test func gpt2CacheIs36864BytesPerTokenAtFp16() throws {
    let s = try analyzeSymbolic(try Self.spec("gpt2"), bindings: [:], free: ["T"])
    let kv = try #require(s.totals.kvCache)
    for t in [1, 100, 1024] {
      // 2 · 12 layers · 12 heads · 64 · T elements, 2 bytes each.
      #expect(try kv.evaluate(["T": t]) * 2 == 36_864 * t)
    }
  }

  @Test func llama3CountsItsKeyValueHeadsNotItsQueryHeads() throws {
    let a = try analyze(try Self.spec("llama3_8b"), bindings: ["T": 8192])
    // 2 · 32 layers · 8 kv heads · 128 · 8192 tokens · 2 bytes = 1 GiB.
    #expect(a.costs.total.kvCache * 2 == 1 << 30)
    #expect(budgetValue(.kvCache, a.costs.total, precision: .bf16) == 1 << 30)
    #expect(budgetValue(.weights, a.costs.total, precision: .bf16) == 8_030_261_248 * 2)
  }

  @Test func theBudgetsBatchMultipliesTheCacheNotTheWeights() throws {
    var g = try Self.spec("gpt2")
    g.budget = [
      BudgetLimit(metric: .kvCache, relation: .le, bound: 1 << 40, range: g.nodes[0].range),
      BudgetLimit(metric: .weights, relation: .le, bound: 1 << 40, range: g.nodes[0].range),
    ]
    g.budgetPrecision = .fp16
    g.budgetBatch = .const(4, at: g.nodes[0].range)
    let (batch, figures) = try #require(budgetFigures(g, bindings: ["T": 128]))
    #expect(batch == 4)
    // 36,864 · T · B bytes at fp16: 36,864 · 128 · 4.
    #expect(figures[0].value == 18_874_368)
    // GPT-2 small's 124,439,808 parameters (transformers' count, tied head once), 2 bytes each.
    #expect(figures[1].value == 124_439_808 * 2)
  }

  /// A decoding cache holds the decoder's causal self-attention and its cross-attention
  /// over the encoder's memory, as transformers' EncoderDecoderCache does: for
  /// torch.nn.Transformer's defaults at S = 7, T = 5, 6 layers · 2 · 8 heads · 64 · (T + S)
  /// values, 4 bytes each; the encoder's self-attention (another 6 · 2 · 512 · S) caches none.
  @Test func anEncoderDecoderCachesItsDecoderOnly() throws {
    let a = try analyze(try Self.spec("transformer_base"), bindings: ["S": 7, "T": 5])
    #expect(a.costs.total.kvCache * 4 == 6 * 2 * 8 * 64 * (5 + 7) * 4)
    #expect(a.costs.total.kvCache * 4 == 294_912)
    let s = try analyzeSymbolic(try Self.spec("transformer_base"), bindings: [:], free: ["S", "T"])
    let kv = try #require(s.totals.kvCache)
    #expect(try kv.evaluate(["S": 7, "T": 5]) == a.costs.total.kvCache)
  }

  /// BERT and ViT are encoders: nothing decodes a token at a time, so nothing is cached.
  @Test(arguments: ["bert_base", "vit_b_16"])
  func anEncoderCachesNothing(_ network: String) throws {
    let a = try analyze(try Self.spec(network), bindings: network == "bert_base" ? ["T": 128] : [:])
    #expect(a.costs.total.kvCache == 0)
    #expect(a.costs.total.macs > 0)
  }

  @Test func longestLlama3ContextBesideItsWeightsIn24GiB() throws {
    let s = try solve(try Self.spec("solve-llama3-context"), options: SolveOptions(list: 0))
    let expected = (24 << 30 - 8_030_261_248 * 2) / 131_072
    #expect(s.interval == 1...expected)
  }

  @Test(arguments: [
    ("24 GiB", 24 << 30), ("16GB", 16_000_000_000), ("512 MiB", 512 << 20), ("1.5 GiB", 3 << 29), ("100000", 100_000),
    ("2K", 2_000), ("64 B", 64),
  ])
  func byteBudgetsTakeUnits(_ text: String, _ bytes: Int) throws {
    let g = try SpecLoader.parse(
      SourceFile(path: "t.yaml", text: "name: t\ninput: 4\nbudget: {weights: \"<= \(text)\", precision: fp16}\nlayers: [FC-2]\n")
    ).graph
    #expect(g.budget.first?.bound == bytes)
    #expect(g.budgetPrecision == .fp16)
  }

  @Test func aByteBudgetThatFailsSaysBytesAndPrecision() throws {
    let g = try SpecLoader.parse(
      SourceFile(path: "t.yaml", text: "name: t\ninput: 4\nbudget: {weights: \"<= 10 B\", precision: bf16}\nlayers: [FC-2]\n")
    ).graph
    let shapes = try inferShapes(g, bindings: [:])
    let problems = checkBudget(g, shapes, try countCosts(g, shapes))
    // FC-2 on 4: 4·2 + 2 = 10 params, 20 bytes at bf16.
    #expect(problems.map(\.message) == ["the network has 20 bytes of weights at bf16, outside its budget of <= 10 bytes"])
  }
}
