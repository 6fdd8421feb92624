import Foundation
import NetcDiagnostics
import NetcFrontend
import NetcIR
import Testing

@testable import NetcPasses

/// The warnings and errors `checkSpec` gives a spec written inline.
private func check(_ text: String) throws -> [Diagnostic] {
  let spec = try SpecLoader.parse(SourceFile(path: "t.yaml", text: text))
  return checkSpec(spec.graph, unusedVars: spec.unusedVars, unusedBlocks: spec.unusedBlocks)
}

@Suite("Lint and the check pipeline")
struct LintTests {
  @Test(
    "an input that reads like PyTorch's C x H x W warns (NS507); images and feature maps in H x W x C do not",
    arguments: [
      ("3x32x32", true), ("1x28x28", true), ("3x224x224", true),
      ("32x32x3", false), ("224x224x3", false),
      // A late feature map: small height, but its width is as small, so not C x H x W.
      ("4x4x64", false),
      // 5 is more than the 4 channels of an RGBA image.
      ("5x64x64", false),
    ])
  func channelsFirstInput(_ input: String, _ warns: Bool) throws {
    let found = try check("name: t\ninput: \(input)\nlayers: [RELU]\n")
    #expect(found.contains { $0.code == .channelsFirstInput && $0.severity == .warning } == warns, "\(found)")
  }

  @Test(
    "droppedInput counts the rows after the last window",
    arguments: [
      // (in, k, s, pad, expected): out = floor((in + 2p - k) / s) + 1, the windows reach
      // (out - 1) * s + k - p rows into the input.
      (15, 2, 2, 0, 1),  // out 7, reach 14
      (16, 2, 2, 0, 0),  // out 8, reach 16
      (16, 3, 2, 0, 1),  // out 7, reach 15
      (112, 3, 2, 1, 0),  // ResNet's max pool: out 56, reach 55*2 + 3 - 1 = 112
      (224, 11, 4, 2, 0),  // AlexNet's conv1: out 55, reach 54*4 + 11 - 2 = 225 >= 224
      (10, 3, 3, 0, 1),  // out 3, reach 9
    ])
  func dropped(_ c: (Int, Int, Int, Int, Int)) {
    let (input, k, s, p, expected) = c
    let w = Window(
      kernel: [k], stride: [s], padBegin: [p], padEnd: [p], dilation: [1], rounding: .floor)
    let out = w.outputExtent(input, axis: 0)!
    #expect(w.droppedInput(input, output: out, axis: 0) == expected)
  }

  @Test("a default name inside a structure shadows nothing (relu6_1 as relu1); an explicit one does (NS506)")
  func defaultNamesDoNotShadow() throws {
    let residual = "  - residual: { body: [CONV3-8 pad 1, RELU6] }\n"
    let defaults = try check("name: t\ninput: 8x8x8\nlayers:\n  - RELU6\n  - RELU\n" + residual)
    #expect(!defaults.contains { $0.code == .shadowedName }, "\(defaults)")
    let explicit = try check(
      "name: t\ninput: 8x8x8\nlayers:\n  - RELU6 name act\n  - residual: { body: [CONV3-8 pad 1, RELU6 name act] }\n")
    #expect(explicit.filter { $0.code == .shadowedName }.map(\.message) == ["the name `act` of `residual1.body.act` shadows `act`"])
  }

  @Test("a strided 1x1 conv and the auto shortcut's projection are not reported")
  func subsampling() throws {
    let d = try check(
      "name: t\ninput: 56x56x8\nlayers:\n  - CONV1-8 stride 2\n  - residual: { body: [CONV3-16 stride 2 pad 1], shortcut: auto }\n"
    )
    #expect(d.isEmpty)
  }

  @Test("a budget that holds gives nothing; one that fails names the figure")
  func budget() throws {
    // CONV3-20 on 3 channels: 3*3*3*20 weights + 20 biases = 560 params.
    #expect(
      try check("name: t\ninput: 32x32x3\nbudget: { params: \"<= 560\" }\nlayers: [CONV3-20]\n")
        .isEmpty)
    let d = try check(
      "name: t\ninput: 32x32x3\nbudget: { params: \"< 560\" }\nlayers: [CONV3-20]\n")
    #expect(d.map(\.message) == ["the network has 560 params, outside its budget of < 560"])
  }

  @Test("vars with small domains are searched; the first assignment that passes is enough")
  func varsSearch() throws {
    // 66 = floor((205 - k) / 3) + 1 holds for k in 8...10; odd k: only 9.
    let spec =
      "name: t\ninput: 205x205x10\nvars: { k: 1..20 }\nwhere: [\"k % 2 == 1\"]\nlayers: [CONV$k-96 stride 3 -> 66x66x96]\n"
    #expect(try check(spec).isEmpty)
    let none = try check(spec.replacingOccurrences(of: "1..20", with: "10..20"))
    #expect(none.map(\.code) == [.noSolution])
    // The solver names the constraint that empties the search: after `->`, k is 10 only.
    #expect(
      none.first?.message == "no solution: the condition `k % 2 == 1` never holds with the constraints before it")
  }

  @Test("vars without a domain take the default of their role; a count nothing fixes is unbounded")
  func varsWithoutDomain() throws {
    // A kernel defaults to 1...205 on a 205-wide input: every value gives a valid conv.
    #expect(try check("name: t\ninput: 205x205x10\nvars: { k: }\nlayers: [CONV$k-96]\n").isEmpty)
    let d = try check("name: t\ninput: 16\nvars: { n: }\nlayers: [FC-$n]\n")
    #expect(d.map(\.code) == [.unboundedVar])
  }
}
