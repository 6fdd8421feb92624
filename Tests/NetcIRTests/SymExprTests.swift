import NetcIR
import Testing

/// Symbolic integers: exact floor semantics, overflow reported, minimal parentheses.
struct SymExprTests {
  @Test(arguments: [
    // x, y, floor(x / y), x mod y (Python's // and %)
    (7, 2, 3, 1), (-7, 2, -4, 1), (7, -2, -4, -1), (-7, -2, 3, -1), (6, 3, 2, 0), (0, 5, 0, 0),
  ])
  func floorDivisionAndModulo(x: Int, y: Int, q: Int, r: Int) throws {
    #expect(try SymExpr.floorDiv(.const(x), .const(y)).evaluate([:]) == q)
    #expect(try SymExpr.mod(.const(x), .const(y)).evaluate([:]) == r)
  }

  @Test func evaluationErrors() {
    #expect(throws: SymExpr.EvaluationError.unbound("k")) { try SymExpr.variable("k").evaluate([:]) }
    #expect(throws: SymExpr.EvaluationError.overflow) { try SymExpr.mul(.const(Int.max), .const(2)).evaluate([:]) }
    #expect(throws: SymExpr.EvaluationError.overflow) { try SymExpr.add(.const(Int.max), .const(1)).evaluate([:]) }
    #expect(throws: SymExpr.EvaluationError.divisionByZero) { try SymExpr.floorDiv(.const(1), .const(0)).evaluate([:]) }
    #expect(throws: SymExpr.EvaluationError.overflow) { try SymExpr.floorDiv(.const(Int.min), .const(-1)).evaluate([:]) }
  }

  @Test func substitutionAndVariables() throws {
    let e = SymExpr.add(.mul(.const(4), .variable("mid")), .variable("k"))
    #expect(e.variables == ["mid", "k"])
    let bound = e.substituting(["mid": .const(16)])
    #expect(bound.variables == ["k"])
    #expect(try bound.evaluate(["k": 1]) == 65)
  }

  @Test(arguments: [
    (SymExpr.add(.mul(.const(4), .variable("mid")), .const(1)), "4*mid + 1"),
    (.mul(.const(4), .add(.variable("a"), .const(1))), "4*(a + 1)"),
    (.sub(.variable("a"), .sub(.variable("b"), .variable("c"))), "a - (b - c)"),
    (.add(.floorDiv(.sub(.const(205), .variable("k")), .const(3)), .const(1)), "(205 - k) // 3 + 1"),
    (.neg(.variable("k")), "-k"),
  ])
  func printing(_ e: SymExpr, text: String) {
    #expect(e.description == text)
  }
}
