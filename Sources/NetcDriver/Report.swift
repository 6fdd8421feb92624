import NetcIR
import NetcONNX
import NetcPasses

/// One row of an analysis report: a layer, or a structure with its layers' totals.
struct ReportRow {
  /// The full dotted name.
  var name: String
  /// The op's mnemonic, or the structure's kind.
  var op: String
  /// How many structures enclose it.
  var depth: Int
  /// True for a structure's row.
  var isGroup: Bool
  /// True for a structure folded by `--depth`: a leaf of the report.
  var isCollapsed: Bool
  /// The output shape.
  var shape: [Int]
  /// The figures (summed over a structure's layers).
  var cost: Cost
  /// The layer whose weight this one shares (`tie`).
  var tiedTo: String?
  /// The activation bytes live while it runs (a structure's: the most over its layers),
  /// when the report has memory.
  var live: Int?
  /// With `--train`: the bytes it is first to save for backward (at the report's batch),
  /// and the backward MACs of its input's and its weights' gradients.
  var saved: Int?, backwardInput: Int?, backwardWeights: Int?

  /// The last segment of the name, for indented display.
  var localName: String { name.split(separator: ".").last.map(String.init) ?? name }

  /// Whether machine formats list the row: layers, and structures folded by `--depth`.
  var isLeaf: Bool { !isGroup || isCollapsed }
}

/// An analysis laid out for output, with structures folded below `maxDepth`.
struct Report {
  var name: String
  var input: [Int]
  var output: [Int]
  var rows: [ReportRow]
  var totals: Cost
  var batch: Int
  /// The input is token ids.
  var tokens: Bool
  /// A spec's named inputs (`inputs:`), each with its shape and whether it is token ids;
  /// empty for a spec with one `input:` (then `input` and `tokens` say it all).
  var namedInputs: [(name: String, shape: [Int], tokens: Bool)] = []
  /// The counting conventions the layers make worth stating (`Conventions`).
  var conventions: [String]
  /// Whether the active figures differ from the totals (a mixture of experts).
  var hasActive: Bool
  /// The storage type of the memory figures, or nil to leave them out.
  var storage: StorageType?
  /// Whether the spec has attention's KV cache.
  var hasCache: Bool
  /// Whether `--memory` asked for activation memory.
  var memoryRequested = false
  /// The ONNX nodes `--partial` left out of the imported spec.
  var unimported: [UnimportedNode] = []
  /// The planned inference activations, nil when not asked for or when they overflow.
  var activations: ActivationMemory?
  /// Per node, its name (for the planned tensors), when the report has memory.
  var nodeNames: [String] = []
  /// What `--train` asked for: the optimizer and the mixed-precision half type.
  var trainingRequest: (optimizer: Optimizer, mixed: StorageType?)?
  /// The memory of a training step, nil when not asked for or when it overflows.
  var training: TrainingMemory?
  /// With `--fit`: the bytes a training step may take.
  var fit: Int?
  /// The backward pass's MACs, with `--train`.
  var backward: BackwardCost?

  init(
    _ analysis: Analysis, maxDepth: Int?, storage: StorageType? = nil, memory: Bool = false,
    training request: (optimizer: Optimizer, mixed: StorageType?)? = nil, fit: Int? = nil
  ) {
    self.fit = fit
    let graph = analysis.graph
    let shapes = analysis.shapes
    let costs = analysis.costs
    name = graph.name
    input = shapes[0]
    output = shapes[graph.outputID]
    totals = costs.total
    batch = analysis.batch
    tokens = graph.tokenInput
    namedInputs = graph.namedInputs.map { ($0.name, shapes[$0.node], $0.tokens) }
    conventions = Conventions.lines(graph)
    hasActive = graph.layers.contains { $0.op == .router }
    self.storage = Memory.storage(graph, requested: storage)
    hasCache = Memory.hasCache(graph)
    rows = []
    memoryRequested = memory
    if memory {
      activations = planActivationMemory(graph, shapes, batch: analysis.batch, storage: storage ?? .fp32)
      nodeNames = graph.nodes.map(\.name)
    }
    if let request {
      trainingRequest = request
      training = trainingMemory(
        graph, shapes, params: costs.total.params, optimizer: request.optimizer, storage: storage ?? .fp32,
        mixedPrecision: request.mixed)
      backward = backwardCost(graph, shapes, costs, batch: analysis.batch)
      nodeNames = graph.nodes.map(\.name)
    }
    let live = activations?.live
    let savedBytes = training.map { t in t.saved.nodes.map { $0.at(batch: analysis.batch) ?? Int.max } }
    let backward = self.backward
    // A structure's training figures: its layers' summed (saturating: they are shown, not checked).
    func trainingSum(_ r: ClosedRange<Int>, _ figure: TrainingFigure) -> Int? {
      let values: [Int]?
      switch figure {
      case .saved: values = savedBytes
      case .input: values = backward?.input
      case .weights: values = backward?.weights
      }
      guard let values else { return nil }
      var total = 0
      for i in r {
        let (s, o) = total.addingReportingOverflow(values[i])
        total = o ? Int.max : s
      }
      return total
    }
    func peakLive(_ r: ClosedRange<Int>) -> Int? { live.map { l in r.map { l[$0] }.max() ?? 0 } }

    // Partial sums make every structure's total O(1); they cannot overflow, as every
    // cost is non-negative and the grand total did not.
    var prefix = [Cost()]
    prefix.reserveCapacity(costs.nodes.count + 1)
    for cost in costs.nodes { prefix.append(prefix.last!.adding(cost)!) }
    func sum(_ r: ClosedRange<Int>) -> Cost {
      let hi = prefix[r.upperBound + 1], lo = prefix[r.lowerBound]
      return Cost(
        params: hi.params - lo.params, buffers: hi.buffers - lo.buffers, macs: hi.macs - lo.macs,
        activations: hi.activations - lo.activations, activeParams: hi.activeParams - lo.activeParams,
        activeMacs: hi.activeMacs - lo.activeMacs)
    }

    // Groups are sorted by first node, outermost first: a cursor walks them with the nodes.
    let groups = graph.groups
    var nextGroup = 0
    rows.reserveCapacity(graph.nodes.count + groups.count)
    var id = 1
    while id < graph.nodes.count {
      var skipTo: Int?
      while nextGroup < groups.count, groups[nextGroup].nodes.lowerBound < id { nextGroup += 1 }
      while nextGroup < groups.count, groups[nextGroup].nodes.lowerBound == id {
        let group = groups[nextGroup]
        nextGroup += 1
        guard group.depth <= (maxDepth ?? Int.max) else { continue }
        if group.nodes.allSatisfy({ graph.nodes[$0].attributes.elidedShortcut }) { continue }
        let collapsed = group.depth == maxDepth
        rows.append(
          ReportRow(
            name: group.name, op: group.kind.rawValue, depth: group.depth,
            isGroup: true, isCollapsed: collapsed, shape: shapes[group.nodes.upperBound], cost: sum(group.nodes),
            live: peakLive(group.nodes), saved: trainingSum(group.nodes, .saved),
            backwardInput: trainingSum(group.nodes, .input), backwardWeights: trainingSum(group.nodes, .weights)))
        if collapsed {
          skipTo = group.nodes.upperBound + 1
          break
        }
      }
      if let skipTo {
        id = skipTo
        continue
      }
      let node = graph.nodes[id]
      if !node.attributes.elidedShortcut && node.depth <= (maxDepth ?? Int.max) {
        rows.append(
          ReportRow(
            name: node.name, op: node.op.mnemonic, depth: node.depth,
            isGroup: false, isCollapsed: false, shape: shapes[id], cost: costs.nodes[id],
            tiedTo: node.attributes.tiedTo.map { graph.nodes[$0].name }, live: live?[id],
            saved: trainingSum(id...id, .saved), backwardInput: trainingSum(id...id, .input),
            backwardWeights: trainingSum(id...id, .weights)))
      }
      id += 1
    }
  }
}

/// The per-layer figures of `--train`.
enum TrainingFigure {
  case saved, input, weights
}

extension TrainingMemory {
  /// The largest batch whose step fits in `bytes` (the closed form a·B + c solved for B),
  /// or 0 when not even one example fits; nil when the step does not grow with the batch.
  func largestBatch(within bytes: Int) -> Int? {
    guard total.perExample > 0 else { return nil }
    return bytes < total.constant ? 0 : (bytes - total.constant) / total.perExample
  }
}
