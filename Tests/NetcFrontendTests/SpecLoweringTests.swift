import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import Testing

/// From a whole spec to the IR: names, defaults, longhand, structures, blocks and vars.
struct SpecLoweringTests {
  func graph(_ text: String) throws -> Graph { try parseSpec(text).graph }

  @Test func defaultNamesCountPerOpInTheirScope() throws {
    let g = try graph(specText(input: "8x8x3", layers: ["CONV3-4", "RELU", "CONV3-4 name mid", "CONV1-2", "RELU"]))
    #expect(g.layers.map(\.name) == ["conv1", "relu1", "mid", "conv3", "relu2"])
  }

  @Test("a default name does not run its count into a digit of the op or block: relu6_1, not relu61")
  func defaultNamesAfterADigit() throws {
    let g = try graph(specText(input: "8x8x3", layers: ["CONV3-4", "RELU6", "RELU6", "RELU"]))
    #expect(g.layers.map(\.name) == ["conv1", "relu6_1", "relu6_2", "relu1"])
    let blocks = try graph(
      "name: t\ninput: 8x8x3\nblocks:\n  stage2:\n    layers: [CONV3-4 pad 1]\nlayers:\n  - block: stage2\n  - block: stage2\n")
    #expect(blocks.layers.map(\.name) == ["stage2_1.conv1", "stage2_2.conv1"])
  }

  @Test func longhandEqualsShorthand() throws {
    let short = try graph(specText(input: "32x32x3", layers: ["CONV3x5-8 stride 2 pad 1,2 bias false -> 16x15x8"]))
    let long = try graph(
      specText(input: "32x32x3", layers: ["conv: { kernel: [3, 5], filters: 8, stride: 2, pad: [1, 2], bias: false, expect: 16x15x8 }"]))
    let a = short.nodes[1].attributes, b = long.nodes[1].attributes
    #expect(a.kernel.map(\.expr) == b.kernel.map(\.expr))
    #expect(a.count?.expr == b.count?.expr)
    #expect(a.stride.map(\.expr) == b.stride.map(\.expr))
    #expect(a.padding.beginExprs == b.padding.beginExprs)
    #expect(a.bias == false && b.bias == false)
    #expect(short.nodes[1].expect?.description == long.nodes[1].expect?.description)
  }

  @Test func defaultsApplyWhereTheOpTakesTheOption() throws {
    let text = specText(
      input: "8x8x4", layers: ["CONV3-4", "PWCONV-8", "DWCONV3 bias true", "POOL2"],
      extra: "defaults:\n  conv: { pad: same, bias: false }\n  pool: { round: ceil }\n")
    let g = try graph(text)
    #expect(g.nodes[1].attributes.padding == .same)
    #expect(g.nodes[1].attributes.bias == false)
    #expect(g.nodes[2].attributes.bias == false)  // pwconv takes bias but not pad
    #expect(g.nodes[3].attributes.bias == true)  // written on the layer: wins
    #expect(g.nodes[4].attributes.rounding == .ceil)
  }

  @Test func residualBodyRunsBeforeItsShortcut() throws {
    let text = """
      name: r
      input: 8x8x4
      layers:
        - residual:
            name: res1
            body: [CONV3-8 stride 2 pad 1, BN, RELU]
            shortcut: auto
      """
    let g = try graph(text)
    #expect(
      g.layers.map(\.name) == [
        "res1.body.conv1", "res1.body.bn1", "res1.body.relu1", "res1.shortcut.conv1", "res1.shortcut.bn1", "res1.add",
      ])
    #expect(g.groups.map(\.name) == ["res1", "res1.body", "res1.shortcut"])
    let a = try analyze(g)
    // Body: floor((8 + 2 - 3)/2) + 1 = 4 -> 4x4x8; the projection: 1x1 stride 2 to 4x4x8,
    // 4*8 = 32 weights, no bias; its BN 2*8 = 16 params.
    #expect(a.node("res1.shortcut.conv1")?.shape == [4, 4, 8])
    #expect(a.node("res1.shortcut.conv1")?.cost.params == 32)
    #expect(a.node("res1.shortcut.bn1")?.cost.params == 16)
    #expect(a.node("res1.add")?.shape == [4, 4, 8])
  }

  @Test func autoShortcutIsIdentityWhenShapesMatch() throws {
    let text = "name: r\ninput: 8x8x4\nlayers:\n  - residual: { body: [CONV3-4 pad 1], shortcut: auto }\n"
    let a = try analyzeSpec(text)
    #expect(a.graph.nodes.filter(\.attributes.elidedShortcut).count == 2)
    // Only the body conv has parameters: 3*3*4*4 + 4 = 148.
    #expect(a.costs.total.params == 148)
  }

  @Test func parallelConcatAndAdd() throws {
    let concat = try analyzeSpec(
      """
      name: p
      input: 8x8x4
      layers:
        - parallel:
            branches: [[CONV1-2], [CONV3-3 pad 1], []]
      """)
    // 2 + 3 + 4 (the empty branch passes the input) = 9 channels.
    #expect(concat.shapes[concat.graph.outputID] == [8, 8, 9])
    #expect(concat.layerNames == ["parallel1.branch1.conv1", "parallel1.branch2.conv1", "parallel1.concat"])
    let add = try analyzeSpec("name: p\ninput: 8x8x4\nlayers:\n  - parallel: { merge: add, branches: [[CONV1-4], [CONV3-4 pad 1]] }\n")
    #expect(add.shapes[add.graph.outputID] == [8, 8, 4])
  }

  @Test func repeatMakesCopiesWithTheirOwnNames() throws {
    let a = try analyzeSpec("name: r\ninput: 4x4x2\nlayers:\n  - repeat: 3\n    name: stage\n    layers: [CONV3-2 pad 1, RELU]\n")
    #expect(a.layerNames == ["stage.1.conv1", "stage.1.relu1", "stage.2.conv1", "stage.2.relu1", "stage.3.conv1", "stage.3.relu1"])
    // Three copies of 3*3*2*2 + 2 = 38 parameters.
    #expect(a.costs.total.params == 3 * 38)
  }

  @Test func blocksWithParametersAndExpressions() throws {
    let text = """
      name: b
      input: 16x16x8
      blocks:
        bottleneck:
          params: [mid, {stride: 1}]
          layers:
            - CONV1-$mid
            - CONV3-$mid stride $stride pad 1
            - "CONV1-${4*mid}"
      layers:
        - block: bottleneck
          with: { mid: 4, stride: 2 }
        - block: bottleneck
          name: second
          with: { mid: "${2 + 2}" }
      """
    let a = try analyzeSpec(text)
    #expect(
      a.layerNames == ["bottleneck1.conv1", "bottleneck1.conv2", "bottleneck1.conv3", "second.conv1", "second.conv2", "second.conv3"])
    #expect(a.node("bottleneck1.conv2")?.shape == [8, 8, 4])  // floor((16 + 2 - 3)/2) + 1 = 8
    #expect(a.node("bottleneck1.conv3")?.shape == [8, 8, 16])  // 4*mid = 16
    #expect(a.node("second.conv2")?.shape == [8, 8, 4])  // stride defaults to 1
  }

  @Test func varsBecomeSymbolicAttributes() throws {
    let g = try graph(specText(input: "205x205x10", layers: ["CONV$k-96 stride 3 -> 66x66x96"], extra: "vars:\n  k: 1..205\n"))
    #expect(g.nodes[1].attributes.kernel.map(\.expr) == [.variable("k")])
    #expect(g.vars.map(\.name) == ["k"])
    #expect(g.vars[0].domain == .range(1...205))
    let a = try analyze(g, bindings: ["k": 9])
    #expect(a.shapes[1] == [66, 66, 96])
  }

  @Test func inputForms() throws {
    #expect(try analyzeSpec("name: a\ninput: 784\nlayers: [FC-10]\n").shapes[0] == [784])
    #expect(try analyzeSpec("name: a\ninput: [28, 28, 1]\nlayers: [RELU]\n").shapes[0] == [28, 28, 1])
    #expect(try analyzeSpec("name: a\ninput: 28 X 28 × 1\nlayers: [RELU]\n").shapes[0] == [28, 28, 1])
  }

  @Test func yamlAnchorsShareLayers() throws {
    let text = """
      name: a
      input: 8x8x3
      blocks:
        unit:
          layers: &unit [CONV3-3 pad 1, RELU]
      layers:
        - repeat: 2
          layers: *unit
      """
    #expect(try analyzeSpec(text).graph.layers.count == 4)
  }
}

extension Padding {
  var beginExprs: [SymExpr] {
    if case .explicit(let b, _) = self { return b.map(\.expr) }
    return []
  }
}
