import NetcDiagnostics
import NetcFrontend
import NetcIR
import Testing

@testable import NetcPasses

/// `solve` of a lone length var by bisection (`solveInterval`) against enumerating every
/// value with concrete analysis, and its refusal where the valid lengths need not be one
/// interval.
@Suite struct IntervalSolveTests {
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
  ]

  @Test(arguments: specs)
  func bisectionAgreesWithEnumeration(_ text: String) throws {
    let g = try Self.graph(text)
    let fast = try #require(solveInterval(g, options: SolveOptions()), "the fast path does not apply")
    let all = Self.enumerated(g)
    #expect(fast.count == BigCount(UInt64(all.count)))
    #expect(fast.listed.map { $0[0] } == all)
    if let first = all.first, let last = all.last { #expect(fast.interval == first...last) }
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
    #expect(solveInterval(g, options: SolveOptions()) == nil)
    // The general search still answers, and agrees with enumeration.
    let s = try solve(g)
    #expect(s.count == BigCount(UInt64(Self.enumerated(g).count)))
  }
}
