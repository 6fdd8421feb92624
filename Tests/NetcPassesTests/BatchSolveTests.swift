import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcTestSupport
import Testing

@testable import NetcPasses

/// `solve` of the budget's batch (`solveBatch`): the largest batch under a training or
/// activation budget, against the closed forms worked out by hand and against checking
/// every batch of the domain one by one.
@Suite struct BatchSolveTests {
  static func graph(_ text: String) throws -> Graph { try SpecLoader.parse(SourceFile(path: "t.yaml", text: text)).graph }

  /// The issue's CNN (PyTorch saves 17,696,256 bytes for it at batch 32) under `budget`.
  static func smallCNN(_ budget: String) throws -> Graph {
    try graph(
      """
      name: t
      input: 32x32x3
      vars: {B: 1..100000}
      budget: \(budget)
      layers: [CONV3-32 pad 1, BN, RELU, POOL2, CONV3-64 pad 1, BN, RELU, POOL2, FLATTEN, FC-10]
      """)
  }

  /// Every batch in the domain at which the budget holds, checked one at a time.
  static func enumerated(_ g: Graph, upTo: Int) throws -> [Int] {
    let shapes = try inferShapes(g, bindings: [:])
    let costs = try countCosts(g, shapes)
    return (1...upTo).filter { checkBudget(g, shapes, costs, bindings: ["B": $0]).isEmpty }
  }

  @Test func resNet50TrainsWithAdamWIn16GiBAtBatch195() throws {
    let g = try SpecLoader.load(path: repositoryPath("specs/solve-resnet50-train-batch.yaml")).graph
    let s = try solve(g, options: SolveOptions(list: 0))
    // (16 GiB - 409,337,472) / 85,909,504 = 195.2: the spec's comment works it out.
    #expect(s.interval == 1...195)
    #expect(s.count == BigCount(195))
  }

  @Test(arguments: [
    // Saved per example: (17,696,256 - 1,536 BN statistics) / 32 = 552,960 bytes (PyTorch's
    // count at batch 32); 60,554 params. SGD: 8 bytes a param; Adam: 16.
    // (50,000,000 - 60,554 x 8 - 1,536) / 552,960 = 89.5.
    (#"{training: "<= 50 MB", optimizer: sgd, batch: $B}"#, 89),
    // (50,000,000 - 60,554 x 16 - 1,536) / 552,960 = 88.7.
    (#"{training: "<= 50 MB", optimizer: adam, batch: $B}"#, 88),
    // bf16: the fp32 saved bytes halve but for the int64 pool indices (65,536 + 32,768):
    // (552,960 - 98,304) / 2 + 98,304 = 325,632 a example; 16 bytes a param (2 + 2 + 4 + 8).
    // (50,000,000 - 968,864 - 1,536) / 325,632 = 150.6.
    (#"{training: "<= 50 MB", mixed_precision: bf16, batch: $B}"#, 150),
  ])
  func theLargestBatchIsTheClosedFormSolved(budget: String, largest: Int) throws {
    let g = try Self.smallCNN(budget)
    let s = try solve(g, options: SolveOptions(list: 0))
    #expect(s.interval == 1...largest)
    #expect(try Self.enumerated(g, upTo: largest + 5) == Array(1...largest))
  }

  @Test func anActivationBudgetCountsThePlannedArenaWithItsAlignment() throws {
    let g = try Self.graph(
      """
      name: t
      input: 1000
      vars: {B: 1..1000}
      budget: {activation_memory: "<= 1000000", batch: $B}
      layers: [FC-1000, FC-1000]
      """)
    // Two 4,000·B-byte values are live at every step, each rounded up to 64 bytes:
    // 2 x ceil(4000·B / 64) x 64 <= 1,000,000 holds for B = 124 (992,000), not 125 (1,000,064).
    let s = try solve(g, options: SolveOptions(list: 0))
    #expect(s.interval == 1...124)
    #expect(try Self.enumerated(g, upTo: 200) == Array(1...124))
  }

  @Test func aLowerLimitAndAnUpperOneLeaveTheBatchesBetween() throws {
    let g = try Self.graph(
      """
      name: t
      input: 1000
      vars: {B: 1..1000}
      where: ["B >= 3"]
      budget: {activation_memory: ">= 100000", kv_cache: "<= 0", training: "<= 2 MB", optimizer: sgd, batch: $B}
      layers: [FC-1000, FC-1000]
      """)
    let s = try solve(g, options: SolveOptions(list: 0))
    // The arena: 8,000·B (B a multiple of 8 or not: 4,000·B rounded to 64, twice) >= 100,000
    // from B = 13 (2 x 52,032 = 104,064); B = 12 gives 96,000. Training with SGD: 2,002,000
    // params x 8 = 16,016,000 bytes already: nothing fits.
    #expect(s.count.isZero)
    #expect(s.failure?.code == .noSolution)
    let h = try Self.graph(
      """
      name: t
      input: 1000
      vars: {B: 1..1000}
      where: ["B <= 40"]
      budget: {activation_memory: ">= 100000", training: "<= 20 MB", optimizer: sgd, batch: $B}
      layers: [FC-1000, FC-1000]
      """)
    // Saved per example: both FC inputs, 4,000 bytes each; 16,016,000 + 8,000·B <= 20,000,000
    // up to B = 498; `where` stops at 40; the arena's lower limit starts at 13.
    let t = try solve(h, options: SolveOptions(list: 0))
    #expect(t.interval == 13...40)
    #expect(try Self.enumerated(h, upTo: 1000).filter { $0 <= 40 } == Array(13...40))
  }

  @Test func aBoundBatchIsCheckedOnceAndAFreeOneBesideOtherVarsIsRefused() throws {
    let fixed = try Self.smallCNN(#"{training: "<= 16 MiB", batch: 32}"#)
    var g = fixed
    g.vars = []
    // 17,696,256 + 60,554 x 16 = 18,665,120 > 16 MiB.
    #expect(try solve(g, options: SolveOptions(list: 0)).count.isZero)
    let other = try Self.graph(
      """
      name: t
      input: 32x32x3
      vars: {B: 1..100, k: 1..5}
      budget: {training: "<= 1 GiB", batch: $B}
      layers: [CONV$k-8, RELU]
      """)
    #expect(throws: DiagnosticError.self) { try solve(other, options: SolveOptions(list: 0)) }
    let bound = try solve(other, options: SolveOptions(fixed: ["k": 3], list: 0))
    #expect(bound.interval == 1...100)
  }
}
