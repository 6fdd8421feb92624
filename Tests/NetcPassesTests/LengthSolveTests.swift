import NetcDiagnostics
import NetcFrontend
import NetcIR
import Testing

@testable import NetcPasses

/// `solve` of one length var by bisection and of two along their frontier (`solveLengths`)
/// against enumerating every value with concrete analysis, and its refusal where the valid
/// lengths need not be one interval.
@Suite struct LengthSolveTests {
  static func graph(_ text: String) throws -> Graph { try SpecLoader.parse(SourceFile(path: "t.yaml", text: text)).graph }

  /// Every value of `T` in its domain for which analysis succeeds and the budget holds.
  static func enumerated(_ g: Graph) -> [Int] {
    guard case .range(let r)? = g.vars.first?.domain else { return [] }
    return r.filter { t in
      guard let a = try? analyze(g, bindings: ["T": t]) else { return false }
      return checkBudget(g, a.shapes, a.costs, bindings: ["T": t]).isEmpty
    }
  }

  static let specs = [
    // A learned table caps T at 100; a budget caps the MACs.
    """
    name: t
    input: $T tokens
    vars: {T: 1..300}
    budget: {macs: "<= 2M"}
    layers: [EMBED-32 vocab 50, POSEMBED-100, ATTN-4 causal, LINEAR-64, GELU, LINEAR-32, TAKE index -1, FC-10]
    """,
    // A window needs T >= 5: the interval starts above the domain's start.
    """
    name: t
    input: ${T}x8
    vars: {T: 1..500}
    where: ["T <= 400"]
    budget: {macs: "<= 50K"}
    layers: [CONV5-8, RELU, CONV3-4 stride 2, GAP, FLATTEN, FC-2]
    """,
    // No budget: every length the table takes.
    """
    name: t
    input: $T tokens
    vars: {T: 1..1000}
    layers: [EMBED-8 vocab 10, POSEMBED-512, {residual: {body: [LN, ATTN-2]}}]
    """,
    // A lower limit: the interval ends at the domain's end and starts where the MACs reach it.
    """
    name: t
    input: $T tokens
    vars: {T: 1..300}
    budget: {macs: ">= 1M", params: "<= 100K"}
    layers: [EMBED-32 vocab 50, ATTN-4 causal, LINEAR-64, GELU, LINEAR-32]
    """,
    // Both sides of one limit.
    """
    name: t
    input: $T tokens
    vars: {T: 1..300}
    budget: {macs: "== 360K"}
    layers: [EMBED-8 vocab 10, LINEAR-16, LINEAR-8]
    """,
  ]

  @Test(arguments: specs)
  func bisectionAgreesWithEnumeration(_ text: String) throws {
    let g = try Self.graph(text)
    let fast = try #require(solveLengths(g, options: SolveOptions()), "the fast path does not apply")
    let all = Self.enumerated(g)
    #expect(fast.count == BigCount(UInt64(all.count)))
    #expect(fast.listed.map { $0[0] } == all)
    if let first = all.first, let last = all.last { #expect(fast.interval == first...last) }
  }

  /// Every pair of values of the two vars, in order, for which analysis succeeds and the
  /// budget holds.
  static func enumeratedPairs(_ g: Graph) -> [[Int]] {
    guard case .range(let r)? = g.vars.first(where: { $0.name == "S" })?.domain,
      case .range(let q)? = g.vars.first(where: { $0.name == "T" })?.domain
    else { return [] }
    return r.flatMap { s in q.map { [s, $0] } }.filter { p in
      let bindings = ["S": p[0], "T": p[1]]
      guard let a = try? analyze(g, bindings: bindings) else { return false }
      return checkBudget(a.graph, a.shapes, a.costs, bindings: bindings).isEmpty
    }
  }

  static let twoLengthSpecs = [
    // An encoder-decoder: a staircase under the MACs, T capped by a position table.
    """
    name: t
    inputs: {src: $S x 8, tgt: $T x 8}
    vars: {S: 1..40, T: 1..40}
    budget: {macs: "<= 60K"}
    layers:
      - ATTN-2
      - LN name memory
      - from: tgt
      - POSEMBED-30
      - ATTN-2 causal
      - ATTN-2 cross memory
      - LINEAR-8
    """,
    // A band between a lower and an upper limit, and a window that needs S >= 5.
    """
    name: t
    inputs: {src: $S x 4, tgt: $T x 4}
    vars: {S: 1..40, T: 1..40}
    budget: {macs: ">= 3K", activations: "<= 400"}
    layers:
      - CONV5-4
      - LN name memory
      - from: tgt
      - ATTN-2 cross memory
    """,
    // Two lengths of one image, and a `where:` bound; no budget: a box.
    """
    name: t
    input: ${S}x${T}x3
    vars: {S: 1..40, T: 1..40}
    where: ["T <= 30"]
    layers: [CONV5-4 stride 2, RELU, GAP, FLATTEN, FC-2]
    """,
  ]

  @Test(arguments: twoLengthSpecs)
  func frontierAgreesWithEnumeration(_ text: String) throws {
    let g = try Self.graph(text)
    let fast = try #require(solveLengths(g, options: SolveOptions()), "the fast path does not apply")
    let all = Self.enumeratedPairs(g)
    #expect(!all.isEmpty)
    #expect(fast.vars == ["S", "T"])
    #expect(fast.count == BigCount(UInt64(all.count)))
    #expect(fast.listed == all)
    #expect(fast.region.map { $0.first(Int.max) } == all)
  }

  @Test func twoLengthsWithNoPairHaveAFailure() throws {
    let g = try Self.graph(
      """
      name: t
      inputs: {src: $S x 8, tgt: $T x 8}
      vars: {S: 1..100, T: 1..100}
      budget: {macs: "<= 10"}
      layers: [ATTN-2, LN name memory, {from: tgt}, ATTN-2 cross memory]
      """)
    let s = try solve(g)
    #expect(s.count.isZero)
    #expect(s.failure?.code == .noSolution)
    #expect(s.failure?.notes.first?.message.hasPrefix("with S = 1, T = 1, the smallest candidate: the network has") == true)
  }

  @Test func budgetBelowTheShortestLengthHasNoSolution() throws {
    let g = try Self.graph(
      """
      name: t
      input: $T tokens
      vars: {T: 1..100}
      budget: {params: "<= 10"}
      layers: [EMBED-8 vocab 10]
      """)
    let s = try solve(g)
    #expect(s.count.isZero)
    #expect(s.failure?.code == .noSolution)
  }

  @Test(arguments: [
    // T in an attribute: the kernel grows with it.
    "name: t\ninput: ${T}x4\nvars: {T: 1..100}\nlayers: [CONV$T-2]\n",
    // A residual whose branches agree only at some lengths.
    "name: t\ninput: ${T}x4\nvars: {T: 1..100}\nlayers: [{residual: {body: [POOL-2, UPSAMPLE-2]}}]\n",
    // T as the channels: divisibility is periodic.
    "name: t\ninput: 4x${T}\nvars: {T: 1..100}\nlayers: [CONV1-8 groups 2]\n",
    // An asserted shape mentions T.
    "name: t\ninput: ${T}x4\nvars: {T: 1..100}\nlayers: ['CONV3-2 -> ${T - 2}x2']\n",
  ])
  func generalSearchWhereTheValidLengthsNeedNotBeAnInterval(_ text: String) throws {
    let g = try Self.graph(text)
    #expect(solveLengths(g, options: SolveOptions()) == nil)
    // The general search still answers, and agrees with enumeration.
    let s = try solve(g)
    #expect(s.count == BigCount(UInt64(Self.enumerated(g).count)))
  }
}
