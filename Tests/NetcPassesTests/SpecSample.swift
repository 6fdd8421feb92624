import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcTestSupport

@testable import NetcPasses

/// A reference spec of `specs/` lowered with its repeat-count vars at their smallest values
/// (they decide the layers, not the figures), and bindings of its other vars to compare
/// figures at: the solver's first solutions, which `analyze` accepts where random bindings
/// rarely are, then random ones.
struct SpecSample {
  var graph: Graph
  /// The repeat-count vars' values.
  var repeated: [String: Int]
  /// The other vars, in declaration order.
  var free: [String]
  /// Every binding to try, each with `repeated` in it.
  var bindings: [[String: Int]]

  /// `solutions` of the solver's, then `random` draws from each var's domain (at most
  /// `span` above its start), seeded by the file's name.
  init(file: String, solutions: Int, random: Int, span: Int = .max) throws {
    let source = SourceFile(path: file, text: try String(contentsOfFile: repositoryPath("specs/\(file)"), encoding: .utf8))
    repeated = [:]
    for v in SpecLoader.repeatVars(source) {
      if case .range(let r)? = v.domain { repeated[v.name] = r.lowerBound }
      if case .list(let l)? = v.domain { repeated[v.name] = l.min() }
    }
    graph = try SpecLoader.parse(source, repeatBindings: repeated).graph
    let repeated = repeated
    free = graph.vars.map(\.name).filter { repeated[$0] == nil }
    bindings = []
    guard !free.isEmpty else { return }
    let found = try solve(graph, options: SolveOptions(fixed: repeated, list: solutions))
    bindings = found.listed.map { Dictionary(uniqueKeysWithValues: zip(found.vars, $0)).merging(repeated) { a, _ in a } }
    var rng = SeededGenerator(seed: UInt64(file.utf8.count))
    for _ in 0..<random {
      var b = repeated
      for v in graph.vars where repeated[v.name] == nil {
        switch v.domain {
        case .range(let r)?:
          let (end, o) = r.lowerBound.addingReportingOverflow(span)
          b[v.name] = Int.random(in: r.lowerBound...(o ? r.upperBound : min(r.upperBound, end)), using: &rng)
        case .list(let l)?: b[v.name] = l.randomElement(using: &rng)!
        case nil: b[v.name] = Int.random(in: 1...64, using: &rng)
        }
      }
      bindings.append(b)
    }
  }
}
