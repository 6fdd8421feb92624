import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcTestSupport
import Testing

/// Specs with several inputs (`inputs:` and `- from: NAME`): the graph they lower to, and
/// every mistake in them at its marker.
struct InputsLoweringTests {
  static let encoderDecoder = """
    name: t
    inputs:
      src: $S tokens
      tgt: $T tokens
    vars: {S: 1..64, T: 1..64}
    layers:
      - EMBED-8 vocab 100 name src_embed
      - ATTN-2 name enc
      - from: tgt
      - EMBED-8 vocab 100 name tgt_embed
      - ATTN-2 cross enc name dec
    """

  @Test func theSecondInputIsANodeWhereItsFromReadsIt() throws {
    let g = try parseSpec(Self.encoderDecoder).graph
    #expect(g.nodes.map(\.name) == ["src", "src_embed", "enc", "tgt", "tgt_embed", "dec"])
    #expect(g.namedInputs.map(\.name) == ["src", "tgt"])
    #expect(g.namedInputs.map(\.node) == [0, 3])
    #expect(g.nodes[3].op == .input && g.nodes[3].inputs.isEmpty)
    #expect(g.nodes[4].inputs == [3])
    #expect(g.nodes[5].inputs == [4, 2])
    #expect(g.inputShape(of: 3).map(\.expr) == [.variable("T")])
    #expect(g.isTokenInput(0) && g.isTokenInput(3))
    // The first input is also the graph's `inputShape`, as for a spec with one `input:`.
    #expect(g.inputShape.map(\.expr) == [.variable("S")])
  }

  @Test func aSecondFromOfTheSameInputReadsTheSameNode() throws {
    let g = try parseSpec(
      "name: t\ninputs: {a: 4x8, b: 3x8}\nlayers:\n  - LINEAR-8\n  - from: b\n  - LINEAR-8 name one\n  - from: b\n  - ATTN-2 cross one\n"
    ).graph
    #expect(g.nodes.filter { $0.op == .input }.count == 2)
    #expect(g.nodes.last?.inputs == [2, 3])  // b (node 2) read twice; `one` the memory
  }

  @Test func aSpecWithOneInputKeepsItsGraph() throws {
    let g = try parseSpec(specText(input: "8x8x3", layers: ["CONV3-4"])).graph
    #expect(g.namedInputs.isEmpty)
    #expect(g.nodes[0].name == "input")
    #expect(g.allInputs.map(\.node) == [0])
  }

  static let cases: [String] = [
    // Both keys: `input` for one input, `inputs` for several.
    """
    name: t
    input: 4x8
    inputs: {a: 4x8}
    #<error: the spec has both `input` and `inputs`
    layers: [LINEAR-8]
    """,
    // A `from` naming no input, with the nearest name.
    """
    name: t
    inputs: {src: 4x8, tgt: 3x8}
    layers:
      - LINEAR-8
      - from: tgtt
    #         ^ error: no input is named `tgtt`
      - LINEAR-8
    """,
    // An input no layer reads.
    """
    name: t
    inputs:
      src: 4x8
      tgt: 3x8
    # ^ error: no layer reads the input `tgt`
    layers: [LINEAR-8]
    """,
    // The first input unread: the layers start at another.
    """
    name: t
    inputs:
      src: 4x8
    # ^ error: no layer reads the input `src`
      tgt: 3x8
    layers:
      - from: tgt
      - LINEAR-8
    """,
    // The same name twice (YAML's own duplicate-key check may say it first).
    """
    name: t
    inputs: {a: 4x8, "a ": 3x8}
    #                ^ error: a layer name is a word of letters, digits, `_` and `-`, found `a `
    layers: [LINEAR-8]
    """,
    // A layer may not take an input's name.
    """
    name: t
    inputs: {src: 4x8, tgt: 3x8}
    layers:
      - LINEAR-8 name tgt
    #                 ^ error: the name `tgt` is taken in this scope
      - from: tgt
      - LINEAR-8
    """,
    // Wrong types: a list, an empty map, a shape that is not one.
    """
    name: t
    inputs: [4x8, 3x8]
    #       ^ error: `inputs` is a mapping of names to shapes, such as `{src: $S tokens, tgt: $T tokens}`, found a list
    layers: [LINEAR-8]
    """,
    """
    name: t
    inputs: {}
    #       ^ error: `inputs` names no input: give at least one, such as `{src: $S tokens, tgt: $T tokens}`
    layers: [LINEAR-8]
    """,
    """
    name: t
    inputs: {a: 0x8, b: 3x8x1x1x2}
    #           ^ error: an input extent must be at least 1, got 0
    #                   ^ error: an input has at most 4 axes (D x H x W x C), got 5
    layers: [LINEAR-8]
    """,
    // `from` in a spec of one input, inside a structure, and naming a mapping.
    """
    name: t
    input: 4x8
    layers:
      - from: x
    #   ^ error: `from: x` needs named inputs: this spec has one `input`
      - LINEAR-8
    """,
    """
    name: t
    inputs: {a: 4x8, b: 4x8}
    layers:
      - residual:
          body:
            - from: b
    #         ^ error: `from` starts a chain of layers at the top level of `layers`, not inside a structure
            - LINEAR-8
      - from: b
      - LINEAR-8
    """,
    """
    name: t
    inputs: {a: 4x8, b: 4x8}
    layers:
      - LINEAR-8
      - from: {b: 1}
    #         ^ error: `from` names one of the spec's `inputs`, such as `from: tgt`, found a mapping
      - from: b
      - LINEAR-8
    """,
  ]

  @Test(arguments: cases)
  func diagnosticsAtTheirMarkers(_ marked: String) {
    let spec = MarkedSpec(marked)
    let actual = diagnostics(of: spec.text).filter { $0.severity == .error }.map(\.markerForm)
    #expect(actual == spec.expected)
  }

  /// More inputs than netc accepts: one error, no work per name.
  @Test func hugeInputCountsAreRefused() {
    let names = (0..<5_000).map { "i\($0): 4x8" }.joined(separator: ", ")
    let d = diagnostics(of: "name: t\ninputs: {\(names)}\nlayers: [LINEAR-8]\n").filter { $0.severity == .error }
    #expect(d.map(\.message) == ["`inputs` names 5000 inputs; netc accepts at most 64"])
  }

  /// Fuzz-ish: every value of the wrong kind in each new place gets a diagnostic, not a trap.
  @Test(arguments: ["inputs: 3", "inputs: ~", "inputs: {a: [x, 2]}", "inputs: {a: {b: 1}}", "inputs: {[1]: 4x8}", "inputs: {a: tokens}"])
  func wrongTypesAreDiagnosed(_ line: String) {
    let d = diagnostics(of: "name: t\n\(line)\nlayers: [LINEAR-8]\n")
    #expect(d.contains { $0.severity == .error && $0.range != nil })
  }
}
