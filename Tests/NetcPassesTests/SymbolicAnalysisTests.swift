import NetcDiagnostics
import NetcFrontend
import NetcIR
import Testing

@testable import NetcPasses

@Suite struct SymbolicAnalysisTests {
  @Test(arguments: [
    // (205 + 0 + 0 - 1*(k - 1) - 1) // 3 + 1: constants folded, the floor kept whole.
    (
      SymExpr.add(.floorDiv(.sub(.sub(.const(205), .mul(.const(1), .sub(.variable("k"), .const(1)))), .const(1)), .const(3)), .const(1)),
      "⌊(205 - k)/3⌋ + 1"
    ),
    // k*k*10*96 + 96 = 960·k² + 96
    (.add(.mul(.mul(.mul(.variable("k"), .variable("k")), .const(10)), .const(96)), .const(96)), "960·k² + 96"),
    // (6k + 9) // 3 = 2k + 3 exactly: every coefficient divides by 3.
    (.floorDiv(.add(.mul(.const(6), .variable("k")), .const(9)), .const(3)), "2·k + 3"),
    // (k + 1) - (k - 1) = 2
    (.sub(.add(.variable("k"), .const(1)), .sub(.variable("k"), .const(1))), "2"),
  ])
  func simplifies(_ e: SymExpr, _ text: String) {
    #expect(e.pretty == text)
  }

  @Test func simplifiedExpressionsKeepTheirValues() throws {
    // The simplifier must be exact: compare values over a grid, negatives included.
    let k = SymExpr.variable("k"), s = SymExpr.variable("s")
    let exprs: [SymExpr] = [
      .add(.floorDiv(.sub(.add(k, .const(7)), .mul(.const(2), s)), s), .const(1)),
      .mul(.add(.floorDiv(.sub(.const(205), k), .const(3)), .const(1)), .add(.floorDiv(.sub(.const(205), k), .const(3)), .const(1))),
      .mod(.add(.mul(.const(4), k), .const(2)), .const(2)),
      .floorDiv(.add(.mul(.const(6), k), .const(-9)), .const(3)),
    ]
    for e in exprs {
      for kv in -7...7 {
        for sv in 1...4 {
          let env = ["k": kv, "s": sv]
          #expect(try e.simplified.evaluate(env) == e.evaluate(env), "\(e) at k=\(kv), s=\(sv)")
        }
      }
    }
  }

  @Test func findKShowsShapesAndParamsInK() throws {
    let graph = try SpecLoader.parse(
      SourceFile(
        path: "t.yaml",
        text: """
          name: find-k
          input: 205x205x10
          vars: {k: 1..205}
          layers: [CONV$k-96 stride 3]
          """)
    ).graph
    let a = try analyzeSymbolic(graph, bindings: [:], free: ["k"])
    let conv = a.nodes[1]
    #expect(conv.shape?.map(\.pretty) == ["⌊(205 - k)/3⌋ + 1", "⌊(205 - k)/3⌋ + 1", "96"])
    #expect(conv.params?.pretty == "960·k² + 96")
    // At k = 9 the expressions give the figures of the concrete analysis:
    // 77,856 params and 338,722,560 MACs (9*9*10*96 = 77,760; * 66 * 66).
    #expect(try conv.params?.evaluate(["k": 9]) == 77_856)
    #expect(try conv.macs?.evaluate(["k": 9]) == 338_722_560)
  }
}
