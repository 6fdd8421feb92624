import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcTestSupport
import Testing

@testable import NetcPasses

/// The offset planner against an exact optimum found by brute force, the live-bytes lower
/// bound against a step-by-step count, and `planActivationMemory` against arithmetic.
@Suite struct ActivationMemoryTests {
  /// SplitMix64: the same random graphs on every machine.
  struct Random {
    var state: UInt64
    mutating func next(_ n: Int) -> Int {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return Int((z ^ (z >> 31)) % UInt64(n))
    }
  }

  /// A random DAG in topological order: node i reads one or two earlier nodes; a node's
  /// tensor lives from its step to its last reader's (the last node's to the end).
  static func randomGraph(_ r: inout Random, nodes: Int) -> [TensorLifetime] {
    var tensors = (0..<nodes).map { TensorLifetime(size: 1 + r.next(24), first: $0, last: $0) }
    for i in 1..<nodes {
      for _ in 0...r.next(2) {
        let j = r.next(i)
        tensors[j].last = max(tensors[j].last, i)
      }
    }
    return tensors
  }

  /// The least arena over every placement: placing tensors in every order, each at the
  /// lowest offset free of the placed tensors it overlaps, reaches the optimum (placing in
  /// the order of an optimal layout's offsets never puts a tensor above its offset there).
  static func optimum(_ tensors: [TensorLifetime]) -> Int {
    var best = Int.max
    var offsets = Array(repeating: 0, count: tensors.count)
    var used = Array(repeating: false, count: tensors.count)
    func place(_ placed: [Int], _ peak: Int) {
      if peak >= best { return }
      if placed.count == tensors.count {
        best = peak
        return
      }
      for i in tensors.indices where !used[i] {
        var candidates = [0] + placed.map { offsets[$0] + tensors[$0].size }
        candidates.sort()
        let offset = candidates.first { o in
          !placed.contains { j in
            tensors[j].overlaps(tensors[i]) && o < offsets[j] + tensors[j].size && offsets[j] < o + tensors[i].size
          }
        }!
        offsets[i] = offset
        used[i] = true
        place(placed + [i], max(peak, offset + tensors[i].size))
        used[i] = false
      }
    }
    place([], 0)
    return best
  }

  /// No two tensors live at the same step share a byte.
  static func isValid(_ tensors: [TensorLifetime], _ offsets: [Int]) -> Bool {
    for i in tensors.indices {
      for j in tensors.indices where j < i && tensors[i].overlaps(tensors[j]) {
        if offsets[i] < offsets[j] + tensors[j].size && offsets[j] < offsets[i] + tensors[i].size { return false }
      }
    }
    return true
  }

  @Test func plannerAgainstBruteForceOptimum() throws {
    var r = Random(state: 17)
    var atOptimum = 0, worst = 1.0
    let cases = 200
    for _ in 0..<cases {
      let tensors = Self.randomGraph(&r, nodes: 2 + r.next(6))
      let plan = try #require(OffsetPlanner.plan(tensors))
      let best = Self.optimum(tensors)
      #expect(Self.isValid(tensors, plan.offsets))
      #expect(plan.peak == zip(tensors, plan.offsets).map { $0.size + $1 }.max())
      #expect(plan.peak >= best)
      #expect(best >= OffsetPlanner.lowerBound(tensors)!.bytes)
      if plan.peak == best { atOptimum += 1 }
      worst = max(worst, Double(plan.peak) / Double(best))
    }
    // Greedy by size is a heuristic: it must be valid always, optimal on most small graphs
    // and never far off.
    #expect(atOptimum * 10 >= cases * 9, "optimal on \(atOptimum) of \(cases)")
    #expect(worst <= 1.25, "worst ratio to the optimum \(worst)")
  }

  @Test func lowerBoundIsTheMostLiveAtOneStep() throws {
    var r = Random(state: 5)
    for _ in 0..<200 {
      let tensors = Self.randomGraph(&r, nodes: 1 + r.next(30))
      // Step by step: the sum of the tensors whose lifetime contains it.
      let steps = tensors.map(\.last).max()! + 1
      let counted = (0..<steps).map { s in tensors.filter { $0.first <= s && s <= $0.last }.map(\.size).reduce(0, +) }
      #expect(OffsetPlanner.liveSizes(tensors) == counted)
      #expect(OffsetPlanner.lowerBound(tensors)?.bytes == counted.max())
    }
  }

  @Test func alignmentRoundsEveryOffset() throws {
    let tensors = [TensorLifetime(size: 3, first: 0, last: 1), .init(size: 5, first: 1, last: 2), .init(size: 70, first: 2, last: 2)]
    let plan = try #require(OffsetPlanner.plan(tensors, alignment: 64))
    #expect(plan.offsets.allSatisfy { $0 % 64 == 0 })
    // 70 rounds to 128 and overlaps the 5 (64): 192; the 3 reuses the 70's space.
    #expect(plan.peak == 192)
    #expect(OffsetPlanner.plan([.init(size: Int.max - 10, first: 0, last: 0)], alignment: 64) == nil)
  }

  @Test func smallCNNActivationsByHand() throws {
    let graph = try SpecLoader.load(path: repositoryPath("specs/small-cnn.yaml")).graph
    let a = try analyze(graph)
    let m = try #require(planActivationMemory(graph, a.shapes, batch: 1, storage: .fp32))
    // Elements: input 32·32·3 = 3072, conv and relu 32·32·10 = 10240, pool 16·16·10 = 2560,
    // conv2 and relu2 6·6·20 = 720, pool2 and flatten 180, fc 10.
    #expect(m.sum == (3072 + 2 * 10240 + 2560 + 2 * 720 + 2 * 180 + 10) * 4)
    // The relu reads the conv's 10240 and writes its own 10240.
    #expect(m.lowerBound == 2 * 10240 * 4)
    #expect(graph.nodes[m.lowerBoundStep].op == .relu)
    // Both 40,960-byte buffers are live at the relu; everything else fits beside one.
    #expect(m.peak == 2 * 10240 * 4)
    let b = try #require(planActivationMemory(graph, a.shapes, batch: 32, storage: .fp16))
    #expect(b.lowerBound == 2 * 10240 * 2 * 32)
  }

  @Test func aliasesShareTheirInputsBuffer() throws {
    let text = """
      netspec: 1
      name: alias
      input: 8
      layers:
        - FC-16
        - DROPOUT
        - FC-4
      """
    let graph = try SpecLoader.parse(SourceFile(path: "t.yaml", text: text)).graph
    let a = try analyze(graph)
    let m = try #require(planActivationMemory(graph, a.shapes, batch: 1, storage: .fp32, alignment: 1))
    // Input, fc, fc2: the dropout owns no buffer; the fc's lives until fc2 reads it.
    #expect(m.tensors.count == 3)
    #expect(m.buffer[2] == m.buffer[1])
    #expect(m.tensors[1].lifetime == TensorLifetime(size: 64, first: 1, last: 3))
    #expect(m.sum == (8 + 16 + 4) * 4)
  }
}

/// The planner on every reference network in `specs/`: within 5% of the live-bytes lower
/// bound (the goal the design sets), transformers at T = 128.
@Suite struct PlannerReferenceTests {
  static let networks = [
    "alexnet", "bert_base", "convnext_tiny", "efficientnet_b0", "gpt2", "inception-block", "lenet5", "llama3_8b", "mixtral_8x7b",
    "mlp-mnist", "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "resnet18", "resnet50", "small-cnn", "unet", "vgg16",
    "vit_b_16",
  ]

  @Test(arguments: networks)
  func plannedArenaWithinFivePercentOfTheLowerBound(_ network: String) throws {
    let graph = try SpecLoader.load(path: repositoryPath("specs/\(network).yaml")).graph
    let bindings = graph.vars.contains { $0.name == "T" } ? ["T": 128] : [:]
    let a = try analyze(graph, bindings: bindings)
    let m = try #require(planActivationMemory(graph, a.shapes, batch: 1, storage: .fp32))
    #expect(m.peak * 100 <= m.lowerBound * 105, "\(network): planned \(m.peak), lower bound \(m.lowerBound)")
  }

  @Test func convNeXtTinyIsAtItsLowerBound() throws {
    let graph = try SpecLoader.load(path: repositoryPath("specs/convnext_tiny.yaml")).graph
    let a = try analyze(graph)
    let m = try #require(planActivationMemory(graph, a.shapes, batch: 1, storage: .fp32))
    // Stage 1's blocks hold 9 values of 56·56·96·4 = 1,204,224 bytes while GELU runs: the
    // residual, the pointwise conv's and GELU's 4C outputs. Greedy by size alone needed 10.
    #expect(m.lowerBound == 9 * 1_204_224)
    #expect(m.peak == m.lowerBound)
  }
}
