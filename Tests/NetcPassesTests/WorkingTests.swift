import Foundation
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import Testing

/// `analyze --explain`'s working: its arithmetic written as a person would, worked by
/// hand here, and its values equal to the counted figures on every spec.
struct WorkingTests {
  func working(_ text: String, _ name: String) throws -> (LayerWorking, Analysis) {
    let a = try analyzeSpec(text)
    let id = try #require(a.graph.nodes.first { $0.name == name }?.id)
    return (layerWorking(a.graph, a.shapes, node: id), a)
  }

  @Test func convWorkingInTheCoursesNotation() throws {
    let (w, _) = try working(specText(input: "16x16x10", layers: ["CONV3-20 stride 3 pad 2"]), "conv1")
    // floor((16 + 2*2 - 3) / 3) + 1 = floor(17/3) + 1 = 6 on both axes.
    #expect(w.extents.map(\.arithmetic) == ["floor((16 + 2*2 - 3) / 3) + 1 = 6", "floor((16 + 2*2 - 3) / 3) + 1 = 6"])
    let params = try #require(w.working(.params))
    #expect(params.formula == "kh*kw*Cin*Cout + Cout")
    #expect(params.arithmetic == "3*3*10*20 + 20")
    #expect(params.value == 1_820)  // 180*10 + 20
    let macs = try #require(w.working(.macs))
    #expect(macs.arithmetic == "(3*3*10) per output x 6*6 positions x 20 filters")
    #expect(macs.value == 64_800)  // 90 * 36 * 20
  }

  @Test func groupedDepthwiseAndTransposed() throws {
    // Grouped: 3*3*(32/4)*64 + 64 = 4,672.
    let (g, _) = try working(specText(input: "8x8x32", layers: ["CONV3-64 groups 4 pad 1"]), "conv1")
    #expect(g.working(.params)?.arithmetic == "3*3*(32/4)*64 + 64")
    #expect(g.working(.params)?.value == 4_672)
    // Depthwise on 8 channels: 3*3*8 + 8 = 80; MACs (3*3) x 8*8 x 8 = 4,608.
    let (d, _) = try working(specText(input: "8x8x8", layers: ["DWCONV3 pad 1"]), "dwconv1")
    #expect(d.working(.params)?.arithmetic == "3*3*8 + 8")
    #expect(d.working(.macs)?.value == 4_608)
    // Transposed, k 4 stride 2 pad 1 on 8x8x16 -> 16: (8 - 1)*2 - 2*1 + 1*(4 - 1) + 0 + 1 = 16;
    // params 4*4*8*16 + 8 = 2,056 (weight [Cin][Cout][k][k], PyTorch's ConvTranspose2d).
    let (t, _) = try working(specText(input: "8x8x16", layers: ["DECONV4-8 stride 2 pad 1"]), "deconv1")
    #expect(t.extents.first?.arithmetic == "(8 - 1)*2 - 2*1 + 1*(4 - 1) + 0 + 1 = 16")
    #expect(t.working(.params)?.value == 2_056)
  }

  @Test func fcBatchNormAndAttention() throws {
    let (fc, _) = try working(specText(input: "180", layers: ["FC-10"]), "fc1")
    #expect(fc.working(.params)?.arithmetic == "180*10 + 10")
    // BN over 64 channels: 2*64 params (gamma, beta) and 2*64 buffers (mean, var).
    let (bn, _) = try working(specText(input: "4x4x64", layers: ["BN"]), "bn1")
    #expect(bn.working(.params)?.arithmetic == "2*64")
    #expect(bn.working(.buffers)?.arithmetic == "2*64")
    // Attention on 16x64 with 4 heads of 16: four 64*4*16 projections and their biases:
    // 4*(4,096 + 64) = 16,640 params; MACs 4 * 16*4,096 + 2*4*16*16*16 = 262,144 + 32,768.
    let (at, _) = try working(specText(input: "16x64", layers: ["ATTN-4"]), "attn1")
    #expect(at.working(.params)?.value == 16_640)
    #expect(at.working(.macs)?.value == 294_912)
  }

  /// Every spec of `specs/` with its vars bound by their first value.
  static let specs: [String] = {
    let dir = repositoryPath("specs")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return files.filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("solve-") }.sorted()
  }()

  /// Every spec of `specs/` that declares vars, the solver's included.
  static let varSpecs: [String] = {
    let dir = repositoryPath("specs")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return files.filter { file in
      file.hasSuffix(".yaml")
        && ((try? String(contentsOfFile: dir + "/" + file, encoding: .utf8))?.contains("\nvars:") ?? false)
    }.sorted()
  }()

  @Test("every spec: each working's value is the figure analyze counts", arguments: specs)
  func workingsAgreeWithCosts(file: String) throws {
    let graph = try SpecLoader.load(path: repositoryPath("specs/\(file)")).graph
    guard graph.vars.isEmpty else { return }
    let a = try analyze(graph)
    for node in a.graph.nodes {
      let w = layerWorking(a.graph, a.shapes, node: node.id)
      let cost = a.costs.nodes[node.id]
      #expect((w.working(.params)?.value ?? 0) == cost.params, "\(file) \(node.name) params")
      #expect((w.working(.buffers)?.value ?? 0) == cost.buffers, "\(file) \(node.name) buffers")
      #expect((w.working(.macs)?.value ?? 0) == cost.macs, "\(file) \(node.name) MACs")
      #expect((w.working(.activations)?.value ?? 0) == cost.activations, "\(file) \(node.name) activations")
    }
  }
}

/// Likely mistakes named: each wrong answer below was worked by hand from the right
/// formula with the mistake made.
struct MistakeTests {
  func named(_ layers: [String], input: String, _ figure: Figure, claimed: Int) throws -> String? {
    let a = try analyzeSpec(specText(input: input, layers: layers))
    let node = a.graph.nodes[1]
    let w = layerWorking(a.graph, a.shapes, node: 1)
    return nameMistake(
      claimed: claimed, working: try #require(w.working(figure)), layer: w, node: node, window: a.shapes.nodes[1].window,
      input: a.shapes.nodes[0].shape)
  }

  @Test func channelsAndFiltersSwapped() throws {
    // 3*3*20*20 + 20 = 3,620 where 3*3*10*20 + 20 = 1,820.
    let m = try named(["CONV3-20 stride 3 pad 2"], input: "16x16x10", .params, claimed: 3_620)
    #expect(m == "3,620 = 3*3*20*20 + 20: the input has 10 channels, not 20 (that is the filters)")
  }

  @Test func filtersMissingAndOffByOne() throws {
    // 810 * 65 * 65 = 3,422,250: the 96 filters left out and floor(196/3) = 65 without the + 1.
    let m = try named(["CONV9-96 stride 3"], input: "205x205x10", .macs, claimed: 3_422_250)
    #expect(
      m == "3,422,250 = (9*9*10) per output x 65*65 positions: the 96 filters are missing, "
        + "and the output is 66x66, not 65x65 (the `+ 1` of the extent formula is missing)")
  }

  @Test func biasMissingAndBiasCountedWithoutOne() throws {
    // 3*3*10*20 = 1,800 without the 20 biases.
    #expect(try named(["CONV3-20"], input: "16x16x10", .params, claimed: 1_800)?.hasSuffix("the bias is missing") == true)
    // bias false: 3*3*10*20 = 1,800, and 1,820 counts 20 biases it does not have.
    #expect(
      try named(["CONV3-20 bias false"], input: "16x16x10", .params, claimed: 1_820)?
        .hasSuffix("a bias of 20 is counted, but the layer has `bias false`") == true)
  }

  @Test func paddingOnceAndStrideLeftOut() throws {
    // pad 1 on 8x8x1, k 3: 8 + 2 - 3 + 1 = 8; with the padding on one side, 8 + 1 - 3 + 1 = 7:
    // MACs 3*3*1 x 7*7 x 4 = 1,764 instead of 9 x 64 x 4 = 2,304.
    #expect(
      try named(["CONV3-4 pad 1"], input: "8x8x1", .macs, claimed: 1_764)?
        .hasSuffix("; or padding is added on both sides: the output is 8x8, not 7x7") == true)
    // stride 2 on 9x9x1, k 3: floor(6/2) + 1 = 4; with stride 1, 7: 9 x 49 x 4 = 1,764.
    #expect(
      try named(["CONV3-4 stride 2"], input: "9x9x1", .macs, claimed: 1_764)?
        .hasSuffix("the stride is left out: the output is 4x4, not 7x7") == true)
  }

  @Test func anotherFigureGiven() throws {
    // 3*3*10*20 + 20 = 1,820 are the params; MACs were asked.
    #expect(try named(["CONV3-20 stride 3 pad 2"], input: "16x16x10", .macs, claimed: 1_820) == "1,820 is the layer's params, not its MACs")
  }

  @Test func wrongShapesNamed() {
    // floor((205 - 9)/3) + 1 = 66; 65 drops the + 1.
    let a = diagnostics(of: specText(input: "205x205x10", layers: ["CONV9-96 stride 3 -> 65x65x96"]))
    #expect(a.first { $0.code == .expectationFailed }?.notes.last?.message == "likely mistake: the `+ 1` of the extent formula is missing")
    // floor((66 + 2*1 - 3)/1) + 1 = 66; without the padding 66 - 3 + 1 = 64.
    let b = diagnostics(of: specText(input: "66x66x8", layers: ["CONV3-8 pad 1 -> 64x64x8"]))
    #expect(b.first { $0.code == .expectationFailed }?.notes.last?.message == "likely mistake: the padding is left out")
    // 60 is none of 65 (padding once, or the + 1 missing), 64 (no padding), 67 (the + 1 twice).
    let c = diagnostics(of: specText(input: "66x66x8", layers: ["CONV3-8 pad 1 -> 60x60x8"]))
    #expect(c.first { $0.code == .expectationFailed }?.notes.contains { $0.message.hasPrefix("likely mistake") } == false)
  }

  @Test func noKnownMistake() throws {
    // 8,064 = 84 * 96: no formula with one or two of the known mistakes gives it.
    #expect(try named(["CONV9-96 stride 3"], input: "205x205x10", .params, claimed: 8_064) == nil)
  }
}

/// `--explain` with vars free: the same formulas, each value an expression that, at any
/// binding `analyze` accepts, is the concrete working's value.
struct SymbolicWorkingTests {
  @Test func convWithAFreeKernel() throws {
    let spec = try parseSpec(specText(input: "205x205x10", layers: ["CONV$k-96 stride 3"], extra: "vars:\n  k: 1..20\n"))
    let a = try analyzeSymbolic(spec.graph, bindings: [:], free: ["k"])
    let w = try #require(symbolicLayerWorking(a, node: 1))
    // floor((205 + 2*0 - k) / 3) + 1 on both axes.
    #expect(w.extents.first?.arithmetic == "floor((205 + 2*0 - k) / 3) + 1 = ⌊(205 - k)/3⌋ + 1")
    let params = try #require(w.working(.params))
    #expect(params.formula == "kh*kw*Cin*Cout + Cout")
    #expect(params.arithmetic == "k*k*10*96 + 96")
    // 10*96 = 960 per kernel cell, plus 96 biases; at k = 9: 960*81 + 96 = 77,856.
    #expect(params.value?.pretty == "960·k² + 96")
    #expect(try params.value?.evaluate(["k": 9]) == 77_856)
    let macs = try #require(w.working(.macs))
    #expect(macs.arithmetic == "(k*k*10) per output x (⌊(205 - k)/3⌋ + 1)*(⌊(205 - k)/3⌋ + 1) positions x 96 filters")
    // 9*9*10 x 66*66 x 96 = 338,722,560 (the homework's figure).
    #expect(try macs.value?.evaluate(["k": 9]) == 338_722_560)
  }

  @Test func attentionTermsLabelled() throws {
    // GPT-2's attention at width 768, 12 heads: four 768*768 projections per position and
    // 2*12*T*T*64 for QKᵀ and AV: 2,359,296·T + 1536·T².
    let spec = try parseSpec(
      specText(input: "$T x 768", layers: ["ATTN-12 causal"], extra: "vars:\n  T: 1..1024\n"))
    let a = try analyzeSymbolic(spec.graph, bindings: [:], free: ["T"])
    let macs = try #require(symbolicLayerWorking(a, node: 1)?.working(.macs))
    #expect(
      macs.labelledTerms.map(\.meaning) == [
        "query projection", "key projection", "value projection", "QKᵀ and attention x V", "output projection",
      ])
    #expect(macs.labelledTerms[3].arithmetic == "2*12*T*T*64")
    #expect(try macs.value?.evaluate(["T": 128]) == 2_359_296 * 128 + 1536 * 128 * 128)
  }

  @Test("every spec with vars: the symbolic working is the concrete one at random bindings", arguments: WorkingTests.varSpecs)
  func agreesWithConcrete(file: String) throws {
    let sample = try SpecSample(file: file, solutions: 10, random: 40, span: 4096)
    let graph = sample.graph
    let symbolic = try analyzeSymbolic(graph, bindings: sample.repeated, free: sample.free)
    var compared = 0
    for bindings in sample.bindings {
      guard let concrete = try? analyze(graph, bindings: bindings) else { continue }
      compared += 1
      for node in graph.nodes {
        guard let s = symbolicLayerWorking(symbolic, node: node.id) else { continue }
        let c = layerWorking(concrete.graph, concrete.shapes, node: node.id)
        #expect(s.figures.map(\.figure) == c.figures.map(\.figure), "\(file) \(node.name) at \(bindings)")
        #expect(s.figures.map(\.formula) == c.figures.map(\.formula), "\(file) \(node.name)")
        for (sf, cf) in zip(s.figures, c.figures) {
          #expect(try sf.value?.evaluate(bindings) == cf.value, "\(file) \(node.name) \(sf.figure) at \(bindings)")
        }
        #expect(s.extents.map(\.formula) == c.extents.map(\.formula), "\(file) \(node.name)")
        for (se, ce) in zip(s.extents, c.extents) {
          #expect(try se.value.evaluate(bindings) == ce.value, "\(file) \(node.name) \(se.axis) at \(bindings)")
        }
      }
    }
    #expect(compared > 0, "no random binding of \(file) was accepted by analyze")
  }
}
