import NetcDiagnostics
import NetcIR

/// How `solve` searches and what it lists.
public struct SolveOptions: Sendable {
  /// Vars fixed on the command line (`--set k=9`).
  public var fixed: [String: Int] = [:]
  /// How many solutions to list, in order; 0 counts only.
  public var list = Int.max
  /// The most candidate combinations (and states) the search will try before it reports
  /// the search as too large instead of running on.
  public var limit = 10_000_000
  /// The most transitions listing keeps in memory to walk solutions back.
  public var edgeLimit = 5_000_000
  /// Called on the caller's thread before each node is searched, with the node's index, the
  /// node count and the states reaching it: a long search can say how far it is.
  public var progress: (@Sendable (_ node: Int, _ nodes: Int, _ states: Int) -> Void)?

  /// Default options: list everything, limit 10^7.
  public init(fixed: [String: Int] = [:], list: Int = Int.max, limit: Int = 10_000_000) {
    self.fixed = fixed
    self.list = list
    self.limit = limit
  }
}

/// Every solution of a spec's unknowns, or the count and the first few.
public struct Solutions: Sendable {
  /// The free vars, in the order solutions list them: by the layer that first uses them,
  /// then by declaration order.
  public var vars: [String]
  /// The vars fixed with `--set`.
  public var fixed: [String: Int]
  /// How many assignments satisfy every constraint.
  public var count: BigCount
  /// The first solutions in lexicographic order of `vars` (each a value per var).
  public var listed: [[Int]]
  /// Why there is no solution, when `count` is zero (NS302).
  public var failure: Diagnostic?
  /// When the solutions are every value of the one var in a range (`solveLengths`).
  public var interval: ClosedRange<Int>?
  /// When the solutions are every pair of two lengths in a box or a staircase (`solveLengths`).
  public var region: SolutionRegion?

  /// Creates solutions.
  public init(
    vars: [String], fixed: [String: Int], count: BigCount, listed: [[Int]], failure: Diagnostic?, interval: ClosedRange<Int>? = nil
  ) {
    self.vars = vars
    self.fixed = fixed
    self.count = count
    self.listed = listed
    self.failure = failure
    self.interval = interval
  }
}

/// The most combinations the search for a failure's whole assignments tries. A spec with
/// no solution among 2 million combinations took 6 s in it under the search's own limit
/// (found by the solver fuzzer); with this one it takes 0.07 s, and 0.6 s with 200,000.
let detailLimit = 50_000

/// Finds every assignment of the spec's vars that satisfies its constraints: `->` shapes,
/// `output:`, `where:`, `budget:`, and every extent at least 1 with groups dividing
/// channels. Searches layer by layer: a state is the shapes still to be read plus the
/// vars still to be used, so vars of one layer are summed out and equal states merge;
/// counting is dynamic programming over states, listing walks the kept transitions.
public func solve(_ graph: Graph, options: SolveOptions = SolveOptions()) throws(DiagnosticError) -> Solutions {
  try verify(graph)
  try checkBindings(graph, options.fixed)
  if let fast = try solveBatch(graph, options: options) { return fast }
  if let fast = solveLengths(graph, options: options) { return fast }
  let batch = try searchBatch(graph, fixed: options.fixed)
  let plan = try SolverPlan(graph, fixed: options.fixed, keepAll: false)
  var search = Search(graph: graph, plan: plan, limit: options.limit, edgeLimit: options.list > 0 ? options.edgeLimit : nil)
  search.progress = options.progress
  search.budgetBatch = batch
  try search.run()
  let names = plan.order.map { plan.vars[$0].name }
  var result = Solutions(vars: names, fixed: options.fixed, count: search.total, listed: [], failure: nil)
  if search.total.isZero {
    // A second search keeping every var shows whole assignments near the failing constraint.
    // Keeping every var merges no states, so it may try far more than the first search: it
    // has its own, smaller limit (it only adds detail; the first search's failure stands
    // without it), and each failure is described by the plan that found it.
    result.failure = search.failure.map { plan.describe($0, graph: graph) }
    if let keepPlan = try? SolverPlan(graph, fixed: options.fixed, keepAll: true) {
      var again = Search(graph: graph, plan: keepPlan, limit: min(options.limit, detailLimit), edgeLimit: nil)
      again.budgetBatch = batch
      if (try? again.run()) != nil, let f = again.failure { result.failure = keepPlan.describe(f, graph: graph) }
    }
    return result
  }
  if options.list > 0 { result.listed = search.list(max: options.list) }
  return result
}

/// The budget's batch for the layer-by-layer search, which sums budgets over the layers:
/// it must be known before the search starts, and the whole network's figures
/// (`activation_memory`, `training`) have no per-layer sum, so they are solved only by the
/// bisections (the batch or one length of the input free).
func searchBatch(_ graph: Graph, fixed: [String: Int]) throws(DiagnosticError) -> Int {
  if let whole = graph.budget.first(where: { !$0.metric.isLayerSum }) {
    let free = graph.vars.filter { fixed[$0.name] == nil }.map { "`\($0.name)`" }
    throw DiagnosticError([
      .error(
        .unboundVar,
        "a `\(whole.metric.rawValue)` budget is solved with one free var, the budget's `batch` or a length of the input; \(free.joined(separator: ", ")) \(free.count == 1 ? "is" : "are") free here",
        at: whole.range,
        notes: [.init("give the others values with `--set` (a length var must appear only in the input shape)")])
    ])
  }
  switch budgetBatch(graph, fixed) {
  case .success(let b): return b
  case .failure(var d):
    d.notes.append(.init("a free batch is solved alone: give the other vars values with `--set`"))
    throw DiagnosticError([d])
  }
}
