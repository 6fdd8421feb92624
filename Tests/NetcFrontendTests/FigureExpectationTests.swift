import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcTestSupport
import Testing

/// `expect:` with figures: numbers, thousands separators, and the writer's arithmetic.
struct FigureExpectationTests {
  func figures(_ expect: String) throws -> [FigureExpectation] {
    let spec = try parseSpec(specText(input: "16x16x10", layers: ["conv: { kernel: 3, filters: 20, expect: \(expect) }"]))
    return spec.graph.nodes[1].expectedFigures
  }

  @Test func numbersAndArithmetic() throws {
    let f = try figures(#"{ shape: 14x14x20, params: "1,820", macs: "9 x 9 x 10 x 96 + 96 = 8,064" }"#)
    #expect(f.map(\.figure) == [.params, .macs])
    #expect(f[0].value == 1_820 && f[0].expression == nil)
    // 9*9*10*96 + 96 = 77,856, claimed 8,064.
    #expect(f[1].value == 8_064)
    #expect(f[1].expressionValue == 77_856)
    #expect(f[1].expression == "9 x 9 x 10 x 96 + 96")
  }

  @Test func arithmeticAloneIsItsValue() throws {
    let f = try figures(#"{ params: "3*3*10*20 + 20" }"#)
    #expect(f[0].value == 1_820 && f[0].expressionValue == nil)
  }

  @Test func badFiguresAreErrors() {
    #expect(
      diagnostics(of: specText(input: "8x8x1", layers: ["conv: { kernel: 3, filters: 2, expect: { flops: 3 } }"])).first?.code
        == .unknownKey)
    #expect(
      diagnostics(of: specText(input: "8x8x1", layers: ["conv: { kernel: 3, filters: 2, expect: { params: \"3 = 4 = 5\" } }"])).first?.code
        == .invalidValue)
    #expect(
      diagnostics(of: specText(input: "8x8x1", layers: ["conv: { kernel: 3, filters: 2, expect: { params: \"k*3\" } }"])).first?.code
        == .invalidValue)
    #expect(
      diagnostics(
        of: specText(input: "8x8x1", layers: ["conv: { kernel: 3, filters: 2, expect: { params: \"99999999999 * 99999999999\" } }"])
      )
      .first?.code == .overflow)
  }
}
