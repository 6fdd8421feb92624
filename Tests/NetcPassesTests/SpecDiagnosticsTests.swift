import NetcTestSupport
import Testing

/// Every error of reading and analysing a spec, with its location and message pinned
/// together by markers under the offending line (see `MarkedSpec`).
struct SpecDiagnosticsTests {
  static let cases: [String] = [
    // A list item indented one space deeper than the one above: YAML folds it into the
    // line above (`CONV3-16 - RELU`); the error is the indentation, not an option `-`.
    """
    name: t
    input: 8x8x3
    layers:
      - CONV3-16
       - RELU
    #< error: this list item is indented deeper than the one above, so YAML reads `- RELU` as part of that layer
      - FC-10
    """,
    // A fractional kernel or count is that number's error, not a missing count.
    """
    name: t
    input: 8x8x3
    layers:
      - CONV3.5-16
    #       ^ error: a kernel extent must be a whole number, got `3.5`
      - CONV3x2.5-16
    #         ^ error: a kernel extent must be a whole number, got `2.5`
      - FC-1.5
    #      ^ error: the number of units must be a whole number, got `1.5`
    """,
    """
    name: t
    input: 8x8x3
    layers:
      - CONVV3-20 stride 2 pad 3
    #   ^ error: unknown layer kind `CONVV`
    """,
    """
    name: t
    input: 8x8x3
    layer: [RELU]
    #< error: unknown top-level key `layer`
    """,
    """
    name: t
    input: 2x2x3
    layers:
      - CONV3-4
    #   ^ error: CONV on 2x2x3 leaves no output height: floor((2 + 2*0 - 3) / 1) + 1 = 0
    """,
    """
    name: t
    input: 16x16x10
    layers:
      - CONV3-20 stride 3 pad 2 -> 5x5x20
    #                              ^ error: `conv1` is 6x6x20, not 5x5x20
    """,
    """
    name: t
    input: 8x8x3
    layers:
      - RELU
      - FC-10
    #   ^ error: FC needs a vector, got 8x8x3 (rank 3)
    """,
    """
    name: t
    input: 8x8x3
    layers:
      - parallel:
    #   ^ error: cannot add 8x8x4 (from `parallel1.branch1.conv1`) and 8x8x5 (from `parallel1.branch2.conv1`)
          merge: add
          branches: [[CONV1-4], [CONV1-5]]
    """,
    """
    name: t
    input: 8x8x3
    layers:
      - CONV3-4 name a
      - RELU name a
    #             ^ error: the name `a` is taken in this scope
    """,
    """
    name: t
    input: 8x8x3
    vars: { k: 1..3 }
    layers:
      - CONV$q-4
    #       ^ error: unknown name `q`
    """,
    """
    name: t
    input: 8x8x3
    blocks:
      a:
        layers: [{ block: b }]
    #                     ^ error: block `b` uses itself: b -> a -> b
      b:
        layers: [{ block: a }]
    layers:
      - block: b
    """,
    """
    name: t
    input: 8x8x3
    layers:
      - CONV3-1234567890123456789012345678901234567890
    #         ^ error: the number `123456789012345678901234567890…` does not fit in 64 bits
    """,
    """
    name: t
    input: 4294967296x4294967296x4
    #      ^ error: 4294967296 * 4294967296 overflows 64-bit integers
    layers: [RELU]
    """,
    """
    name: t
    input: 8x8x3
    layers:
      - CONV0-4
    #       ^ error: a kernel extent must be at least 1, got 0
      - CONV3-4 pad -1
    #               ^ error: padding must be at least 0, got -1
    """,
    """
    name: t
    input: 8x8x6
    layers:
      - CONV3-4 groups 4
    #                  ^ error: input channels (6) do not divide by groups (4)
    """,
    """
    name: t
    input: 8x8x6
    layers:
      - conv: { kernel: 3, filter: 4 }
    #                      ^ error: unknown option `filter` for CONV
    """,
    """
    name: t
    input: 8x8x6
    layers:
      - POOL2 round up
    #               ^ error: `round` is `floor` or `ceil`, found `up`
    """,
    """
    name: t
    input: 8x8x6
    output: 4x4x6
    #       ^ error: the network's output is 8x8x6, not 4x4x6
    layers: [RELU]
    """,
    """
    name: t
    input: 8x8x6
    layers:
      - residual: { body: [CONV3-4 pad 1], shortcut: identity }
    #   ^ error: cannot add 8x8x4 (from `residual1.body.conv1`) and 8x8x6 (from `input`)
    """,
    """
    name: t
    input: 8x8x6
    layers:
      - FLATTEN
      - POOL2
    #   ^ error: POOL needs an image (HxWxC), a sequence (LxC) or a volume (DxHxWxC), got a vector of 384
    """,
    """
    name: t
    input: 8x8x6
    layers:
      - repeat: 0
    #           ^ error: a repeat count must be between 1 and 1000000, got 0
        layers: [RELU]
    """,
    """
    name: t
    input: 8x8x6
    layers:
      - block: bottlenek
    #          ^ error: unknown block `bottlenek`
    """,
    """
    name: bomb
    input: 4x4x2
    layers:
      - repeat: 1000
    #   ^ error: the spec expands to more than 1000000 layers
        layers:
          - repeat: 1000
            layers:
              - repeat: 1000
                layers: [RELU]
    """,
    """
    name: bomb
    input: 4x4x2
    blocks:
      a: { layers: [RELU, RELU, RELU, RELU, RELU, RELU, RELU, RELU, RELU, RELU] }
      b: { layers: [{block: a}, {block: a}, {block: a}, {block: a}, {block: a}, {block: a}, {block: a}, {block: a}, {block: a}, {block: a}] }
      c: { layers: [{block: b}, {block: b}, {block: b}, {block: b}, {block: b}, {block: b}, {block: b}, {block: b}, {block: b}, {block: b}] }
      d: { layers: [{block: c}, {block: c}, {block: c}, {block: c}, {block: c}, {block: c}, {block: c}, {block: c}, {block: c}, {block: c}] }
      e: { layers: [{block: d}, {block: d}, {block: d}, {block: d}, {block: d}, {block: d}, {block: d}, {block: d}, {block: d}, {block: d}] }
      f: { layers: [{block: e}, {block: e}, {block: e}, {block: e}, {block: e}, {block: e}, {block: e}, {block: e}, {block: e}, {block: e}] }
      g: { layers: [{block: f}, {block: f}, {block: f}, {block: f}, {block: f}, {block: f}, {block: f}, {block: f}, {block: f}, {block: f}] }
    layers:
      - block: g
    #   ^ error: the spec expands to more than 1000000 layers
    """,
  ]

  @Test(arguments: cases)
  func diagnosticsAtTheirMarkers(_ marked: String) {
    let spec = MarkedSpec(marked)
    let actual = diagnostics(of: spec.text).filter { $0.severity == .error }.map(\.markerForm)
    #expect(actual == spec.expected)
  }
}

extension SpecDiagnosticsTests {
  @Test func expressionsInFlowListsGetAHint() {
    let d = diagnostics(of: "name: t\ninput: 8x8x4\nlayers: [CONV1-${2*2}, RELU]\n")
    #expect(d.first?.markerForm == "3:17: error: did not find expected ',' or ']'")
    #expect(d.first?.notes.contains { $0.message.hasPrefix("`${...}` cannot stand unquoted inside `[...]`") } == true)
  }
}
