import NetcDiagnostics
import NetcFrontend
import NetcIR
import Testing

@testable import NetcPasses

/// The repository root, from this file's path.
private let root: String = {
  let path = #filePath
  let parts = path.split(separator: "/", omittingEmptySubsequences: false)
  return parts.prefix(parts.count - 3).joined(separator: "/")
}()

private func load(_ name: String) throws -> Graph {
  try SpecLoader.load(path: root + "/specs/" + name).graph
}

private func parse(_ text: String) throws -> Graph {
  try SpecLoader.parse(SourceFile(path: "test.yaml", text: text)).graph
}

/// One classic question, its spec, and the answer worked out by hand.
struct Classic: CustomTestStringConvertible, Sendable {
  var spec: String
  var vars: [String]
  var solutions: [[Int]]
  var testDescription: String { spec }
}

@Suite struct ConstraintSolverTests {
  @Test(arguments: [
    // floor((205 - k) / 3) + 1 = 66  <=>  195 <= 205 - k <= 197  <=>  k in 8...10
    Classic(spec: "solve-find-k.yaml", vars: ["k"], solutions: [[8], [9], [10]]),
    // floor((20 + 2p - k) / s) + 1 = 20 with p in 0..k-1: s = 1, p = (k - 1) / 2;
    // s >= 2 would need 20 + 2p - k >= 38, p >= 9 + k/2 > k - 1.
    Classic(spec: "solve-same-20x20.yaml", vars: ["k", "s", "p"], solutions: [[1, 1, 0], [3, 1, 1], [5, 1, 2]]),
    // floor((27 + 2p) / s) = 14 with p in 0..2: only p = 1, s = 2 (29 / 2 = 14); f = 40 from `->`.
    Classic(spec: "solve-30-to-15.yaml", vars: ["s", "p", "f"], solutions: [[2, 1, 40]]),
  ])
  func classicQuestions(_ c: Classic) throws {
    let result = try solve(try load(c.spec))
    #expect(result.vars == c.vars)
    #expect(result.count == BigCount(UInt64(c.solutions.count)))
    #expect(result.listed == c.solutions)
    #expect(result.failure == nil)
  }

  @Test func findKWithNineHasTheTextbookFigures() throws {
    // k = 9: weights 9*9*10*96 = 77,760, + 96 biases = 77,856 params;
    // MACs 77,760 * 66 * 66 = 338,722,560.
    let a = try analyze(try load("solve-find-k.yaml"), bindings: ["k": 9])
    #expect(a.costs.total.params == 77_856)
    #expect(a.costs.total.macs == 338_722_560)
  }

  @Test func chainOfFiveMatchesTheBruteForceScript() throws {
    // scripts/solve/brute_force_chain.py 5 (plain loops over all 32^5 choices) prints 226895.
    let result = try solve(try load("solve-chain5.yaml"), options: SolveOptions(list: 0))
    #expect(result.count == BigCount(226_895))
  }

  /// A 3-layer chain against nested loops over the same domains with the plain formula.
  @Test(arguments: [28, 56, 29, 100, 1])
  func chainOfThreeMatchesNestedLoops(target: Int) throws {
    let graph = try parse(
      """
      name: chain3
      input: 224x224x3
      vars: {k1: [1, 3, 5, 7], s1: [1, 2], p1: 0..3, k2: [1, 3, 5, 7], s2: [1, 2], p2: 0..3, k3: [1, 3, 5, 7], s3: [1, 2], p3: 0..3}
      layers:
        - CONV$k1-8 stride $s1 pad $p1
        - CONV$k2-8 stride $s2 pad $p2
        - CONV$k3-8 stride $s3 pad $p3
      output: \(target)x\(target)x8
      """)
    var expected: [[Int]] = []
    let ks = [1, 3, 5, 7], ss = [1, 2], ps = [0, 1, 2, 3]
    func out(_ x: Int, _ k: Int, _ s: Int, _ p: Int) -> Int { SymExpr.floorDivide(x + 2 * p - k, s) + 1 }
    for k1 in ks {
      for s1 in ss {
        for p1 in ps {
          let h1 = out(224, k1, s1, p1)
          for k2 in ks {
            for s2 in ss {
              for p2 in ps {
                let h2 = out(h1, k2, s2, p2)
                for k3 in ks {
                  for s3 in ss {
                    for p3 in ps {
                      let h3 = out(h2, k3, s3, p3)
                      if h1 >= 1 && h2 >= 1 && h3 == target { expected.append([k1, s1, p1, k2, s2, p2, k3, s3, p3]) }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    let result = try solve(graph)
    #expect(result.count == BigCount(UInt64(expected.count)))
    #expect(result.listed == expected)  // nested loops run in the same order: by layer, then declaration
    if expected.isEmpty { #expect(result.failure?.code == .noSolution) }
  }

  /// Specs exercising ceil rounding, `same` padding, dilation, groups, a residual with an
  /// auto shortcut and a concat, against the standard pipeline (`analyze`) run on every
  /// combination of the domains.
  @Test(arguments: [
    """
    name: window-mix
    input: 17x17x6
    vars: {k: 1..5, s: 1..3, d: 1..2, g: [1, 2, 3, 4, 6], q: 2..3}
    layers:
      - CONV$k-12 stride $s pad same dilation $d groups $g
      - POOL$q round ceil -> 3x3x12
    """,
    """
    name: floor-vs-ceil
    input: 31x29x4
    vars: {k: 1..6, s: 1..4, p: 0..2}
    layers:
      - AVGPOOL$k stride $s pad $p round ceil
      - CONV3-8 pad 1 -> 8x_x8
    """,
    """
    name: residual-and-concat
    input: 16x16x8
    vars: {s: 1..3, f: [8, 16], k: [1, 3, 5], p: 0..2}
    layers:
      - residual:
          body: [CONV3-$f stride $s pad 1, RELU, CONV$k-$f pad $p]
          shortcut: auto
      - parallel:
          merge: concat
          branches:
            - [CONV1-4]
            - [POOL3 stride 1 pad 1]
    output: 8x8x_
    """,
  ])
  func agreesWithShapeInferenceOnEveryCombination(_ text: String) throws {
    let graph = try parse(text)
    let names = graph.vars.map(\.name)
    var expected = Set<[Int]>()
    var values = Array(repeating: 0, count: names.count)
    func domain(_ d: VarDecl.Domain?) -> [Int] {
      switch d! {
      case .range(let r): Array(r)
      case .list(let l): l
      }
    }
    func walk(_ i: Int) {
      if i == names.count {
        if (try? analyze(graph, bindings: Dictionary(uniqueKeysWithValues: zip(names, values)))) != nil { expected.insert(values) }
        return
      }
      for v in domain(graph.vars[i].domain) {
        values[i] = v
        walk(i + 1)
      }
    }
    walk(0)
    let result = try solve(graph)
    // Solutions list vars by first use; reorder to declaration order to compare.
    let position = names.map { n in result.vars.firstIndex(of: n)! }
    let got = Set(result.listed.map { s in position.map { s[$0] } })
    #expect(result.count == BigCount(UInt64(expected.count)))
    #expect(got == expected)
    #expect(!expected.isEmpty)
  }

  @Test func whereAndBudgetNarrowTheSolutions() throws {
    // k in 8...10 as above; odd k leaves 9. Params 960k^2 + 96: k = 8 -> 61,536,
    // k = 9 -> 77,856, k = 10 -> 96,096; "<= 80K" keeps 8 and 9.
    let odd = try parse(
      """
      name: odd
      input: 205x205x10
      vars: {k: 1..205}
      where: ["k % 2 == 1"]
      layers: [CONV$k-96 stride 3 -> 66x66x96]
      """)
    #expect(try solve(odd).listed == [[9]])
    let budget = try parse(
      """
      name: budget
      input: 205x205x10
      vars: {k: 1..205}
      budget: {params: "<= 80K"}
      layers: [CONV$k-96 stride 3 -> 66x66x96]
      """)
    #expect(try solve(budget).listed == [[8], [9]])
  }

  @Test func noSolutionNamesTheConstraintAndTheNearestValues() throws {
    // k = 11: floor((205 - 11) / 3) + 1 = 64 + 1 = 65, the nearest to 66 in 11...20.
    let graph = try parse(
      """
      name: none
      input: 205x205x10
      vars: {k: 11..20}
      layers: [CONV$k-96 stride 3 -> 66x66x96]
      """)
    let result = try solve(graph)
    #expect(result.count == .zero)
    let failure = try #require(result.failure)
    #expect(failure.code == .noSolution)
    #expect(failure.message.contains("66x66x96"))
    #expect(failure.notes.first?.message == "k = 11 gives 65x65x96, not 66x66x96")
    #expect(failure.range?.start.line == 4)  // the `->` pattern
  }

  @Test func anUnboundedCountIsReportedNotGuessed() throws {
    let graph = try parse(
      """
      name: unbounded
      input: 32x32x3
      vars: {f: ~}
      layers: [CONV3-$f, RELU]
      """)
    #expect {
      try solve(graph)
    } throws: { error in
      (error as? DiagnosticError)?.diagnostics.first?.code == .unboundedVar
    }
  }

  /// Found by the front-end fuzzer (a 34 s timeout): a domain of all 2^63 non-negative
  /// values counted as no candidates, so the size estimate let the search start on them.
  @Test func aDomainOfEveryNonNegativeIntIsTooLargeAtOnce() throws {
    let graph = try parse(
      """
      name: t
      input: 8x8x3
      vars: {d: 0..9223372036854775807}
      layers:
        - CONV3-4 dilation 1,$d pad same
      """)
    #expect(Candidates.range(0, Int.max).count == Int.max)
    #expect(Candidates.range(Int.min, Int.max).count == Int.max)
    #expect(Candidates.range(1, Int.max).count == Int.max)
    #expect(Candidates.range(5, 4).count == 0)
    #expect {
      try solve(graph)
    } throws: { error in
      (error as? DiagnosticError)?.diagnostics.first?.code == .searchTooLarge
    }
  }

  @Test func aSearchTooLargeSaysSoInsteadOfRunning() throws {
    let graph = try parse(
      """
      name: huge
      input: 4096x4096x3
      vars: {a: 1..100000, b: 1..100000, c: 1..100000}
      layers: [CONV$a-$b dilation $c -> 1x1x_]
      """)
    #expect {
      try solve(graph)
    } throws: { error in
      (error as? DiagnosticError)?.diagnostics.first?.code == .searchTooLarge
    }
  }

  /// Found by the solver fuzzer: no solution among 2 million combinations, and the second
  /// search (every var kept, for whole assignments in the notes) ran to the search's own
  /// limit: 6 s in a release build, 57 s in a debug one. It has a limit of its own now.
  @Test("a spec with no solution among millions of combinations fails in well under a second")
  func noSolutionFailsFast() throws {
    let graph = try parse(
      """
      name: t
      input: 224x224x3
      vars:
        k1: [1, 3, 5, 7]
        s1: [1, 2]
        p1: 0..3
        k2: [1, 3, 5, 7]
        s2: [1, 2]
        k3: [1, 3, 5, 7]
        p3: 0..3
        k4: [1, 3, 5, 7]
        s4: [1, 1]
        p4: 0..3
        k5: [1, 3, 5, 7]
        s5: [1, 2]
        p5: 0..3
      layers:
        - CONV$k1-16 stride $s1 pad $p1
        - CONV$k2-32 stride $s2 pad $p1
        - CONV$k3-64 pad $p3
        - CONV$k4-128 stride $s4 pad $p4
        - CONV$k5-256 stride $s5 pad $p5
      output: 7x7x256
      """)
    let start = ContinuousClock.now
    let result = try solve(graph, options: SolveOptions(list: 0))
    #expect(result.count.isZero)
    #expect(result.failure?.code == .noSolution)
    #expect(ContinuousClock.now - start < .seconds(5), "a debug build took 0.4 s")
  }

  @Test func countsBeyondSixtyFourBitsAreExact() throws {
    // 22 layers, each k in {1, 3, 5, 7} and groups in {1, 2, 4, 8} (all divide 8 in and
    // 8 out); `same` keeps 8x8x8 whatever k, so 16 choices per layer: 16^22 = 2^88.
    var layers = ""
    var vars = ""
    for i in 1...22 {
      vars += "k\(i): [1, 3, 5, 7], g\(i): [1, 2, 4, 8], "
      layers += "  - CONV$k\(i)-8 pad same groups $g\(i)\n"
    }
    let graph = try parse("name: wide\ninput: 8x8x8\nvars: {\(vars.dropLast(2))}\nlayers:\n\(layers)")
    var expected = BigCount(1)
    for _ in 1...22 { expected = expected.multiplied(by: BigCount(16)) }
    let result = try solve(graph, options: SolveOptions(list: 0))
    #expect(result.count == expected)
    #expect(result.count.description == "309485009821345068724781056")  // 2^88
  }
}
