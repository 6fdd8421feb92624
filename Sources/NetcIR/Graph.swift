import NetcDiagnostics

/// A var of the spec (`vars: {k: 1..205}`) and its domain.
public struct VarDecl: Hashable, Sendable {
  /// The values a var may take.
  public enum Domain: Hashable, Sendable {
    case range(ClosedRange<Int>)
    case list([Int])
  }

  /// The var's name, without `$`.
  public var name: String
  /// Its domain, or nil for the default of its role.
  public var domain: Domain?
  /// Where it was declared.
  public var range: SourceRange

  /// Creates a var declaration.
  public init(name: String, domain: Domain?, range: SourceRange) {
    self.name = name
    self.domain = domain
    self.range = range
  }
}

/// A comparison over vars from `where:` (`k % 2 == 1`).
public struct Condition: Hashable, Sendable {
  /// A comparison operator.
  public enum Relation: String, Hashable, Sendable, CaseIterable {
    case eq = "==", ne = "!=", le = "<=", ge = ">=", lt = "<", gt = ">"

    /// Whether `a relation b` holds.
    public func holds(_ a: Int, _ b: Int) -> Bool {
      switch self {
      case .eq: a == b
      case .ne: a != b
      case .le: a <= b
      case .ge: a >= b
      case .lt: a < b
      case .gt: a > b
      }
    }
  }

  /// The left side.
  public var lhs: SymExpr
  /// The relation.
  public var relation: Relation
  /// The right side.
  public var rhs: SymExpr
  /// Where it was written.
  public var range: SourceRange

  /// Creates a condition.
  public init(lhs: SymExpr, relation: Relation, rhs: SymExpr, range: SourceRange) {
    self.lhs = lhs
    self.relation = relation
    self.rhs = rhs
    self.range = range
  }
}

/// A limit from `budget:` (`params: "<= 5M"`).
public struct BudgetLimit: Hashable, Sendable {
  /// What is limited.
  public enum Metric: String, Hashable, Sendable, CaseIterable {
    case params, buffers, macs, activations
    /// Bytes of the parameters and buffers at the budget's `precision`.
    case weights
    /// Bytes of attention's key/value cache at the budget's `precision`.
    case kvCache = "kv_cache"
    /// Inference memory for weights and the KV cache: `weights` + `kv_cache`.
    case memory
    /// The arena netc's offset planner lays out for the inference activations.
    case activationMemory = "activation_memory"
    /// The memory of one training step: weights, gradients, optimizer state, master copy
    /// and what the forward pass saves for backward.
    case training

    /// Whether the metric counts bytes (and its limit may carry a unit: `24 GiB`).
    public var isBytes: Bool {
      switch self {
      case .params, .buffers, .macs, .activations: false
      case .weights, .kvCache, .memory, .activationMemory, .training: true
      }
    }

    /// Whether the metric is a sum over the layers, which the solver adds up as it goes;
    /// the others are figures of the whole network (lifetimes, storages saved once).
    public var isLayerSum: Bool {
      switch self {
      case .params, .buffers, .macs, .activations, .weights, .kvCache, .memory: true
      case .activationMemory, .training: false
      }
    }

    /// Whether the metric grows with the budget's `batch`.
    public var growsWithBatch: Bool {
      switch self {
      case .params, .buffers, .macs, .activations, .weights: false
      case .kvCache, .memory, .activationMemory, .training: true
      }
    }
  }

  /// The metric.
  public var metric: Metric
  /// The relation the metric must satisfy.
  public var relation: Condition.Relation
  /// The bound.
  public var bound: Int
  /// Where it was written.
  public var range: SourceRange

  /// Creates a limit.
  public init(metric: Metric, relation: Condition.Relation, bound: Int, range: SourceRange) {
    self.metric = metric
    self.relation = relation
    self.bound = bound
    self.range = range
  }
}

/// One of the named inputs of a spec with several (`inputs: {src: $S tokens, tgt: $T tokens}`).
public struct GraphInput: Hashable, Sendable {
  /// Its name, which is also its node's.
  public var name: String
  /// Its shape, outermost first.
  public var shape: [SymValue]
  /// True when it is token ids.
  public var tokens: Bool
  /// The id of its `.input` node: 0 for the first, else where a `from:` first reads it.
  public var node: Int
  /// Where it was declared.
  public var range: SourceRange

  /// Creates a named input.
  public init(name: String, shape: [SymValue], tokens: Bool, node: Int, range: SourceRange) {
    self.name = name
    self.shape = shape
    self.tokens = tokens
    self.node = node
    self.range = range
  }
}

/// The IR of one spec: nodes in topological (execution) order, node 0 the (first) input.
public struct Graph: Hashable, Sendable {
  /// The spec's `name`.
  public var name: String
  /// The spec's `description`, if any.
  public var description: String?
  /// The input shape, outermost first (H, W, C).
  public var inputShape: [SymValue]
  /// True when the input is token ids (`input: T tokens`): its one extent is the length.
  public var tokenInput = false
  /// The inputs of a spec that names several (`inputs:`), in declaration order, the first
  /// at node 0 (and in `inputShape` and `tokenInput`); empty for a spec with one `input:`.
  public var namedInputs: [GraphInput] = []
  /// The nodes; `nodes[0]` is the input, the last node is the output. With `inputs:`, the
  /// other inputs are `.input` nodes where their first `from:` reads them.
  public var nodes: [Node]
  /// The structures, outermost first within each run.
  public var groups: [Group]
  /// The declared vars, in declaration order.
  public var vars: [VarDecl]
  /// Conditions from `where:`.
  public var conditions: [Condition]
  /// The asserted output shape from `output:`.
  public var outputExpect: ShapePattern?
  /// Limits from `budget:`.
  public var budget: [BudgetLimit]
  /// Asserted totals from the top-level `expect:` (`expect: { params: 3910 }`).
  public var expectedTotals: [FigureExpectation] = []
  /// The storage type byte budgets count in (`budget: {precision: bf16}`; fp32 by default).
  public var budgetPrecision: StorageType = .fp32
  /// The optimizer of a `training` budget (`budget: {optimizer: sgd}`; AdamW by default).
  public var budgetOptimizer: Optimizer = .adamw
  /// The half type of a mixed-precision `training` budget, or nil to train in `budgetPrecision`.
  public var budgetMixedPrecision: StorageType?
  /// The batch the memory budgets count at (`budget: {batch: $B}`), or nil for one example.
  public var budgetBatch: SymValue?
  /// Where the spec's file is.
  public var file: String

  /// Creates a graph.
  public init(
    name: String, description: String? = nil, inputShape: [SymValue], nodes: [Node],
    groups: [Group] = [], vars: [VarDecl] = [], conditions: [Condition] = [],
    outputExpect: ShapePattern? = nil, budget: [BudgetLimit] = [], file: String
  ) {
    self.name = name
    self.description = description
    self.inputShape = inputShape
    self.nodes = nodes
    self.groups = groups
    self.vars = vars
    self.conditions = conditions
    self.outputExpect = outputExpect
    self.budget = budget
    self.file = file
  }

  /// The shape of the input at node `id` (an `.input` node).
  public func inputShape(of id: Int) -> [SymValue] {
    id == 0 ? inputShape : namedInputs.first { $0.node == id }?.shape ?? []
  }

  /// Whether the input at node `id` is token ids.
  public func isTokenInput(_ id: Int) -> Bool {
    id == 0 ? tokenInput : namedInputs.first { $0.node == id }?.tokens ?? false
  }

  /// Every input's node, shape and kind: the one of `input:` or each of `inputs:`.
  public var allInputs: [GraphInput] {
    namedInputs.isEmpty
      ? [GraphInput(name: "input", shape: inputShape, tokens: tokenInput, node: 0, range: nodes[0].range)]
      : namedInputs
  }

  /// The output node's id.
  public var outputID: Int { nodes.count - 1 }

  /// The layers: every node but the input.
  public var layers: ArraySlice<Node> { nodes.dropFirst() }
}

/// How a tensor's elements are stored, for byte counts.
public enum StorageType: String, Hashable, Sendable, CaseIterable {
  case fp32, fp16, bf16, int8

  /// Bytes per element.
  public var bytes: Int {
    switch self {
    case .fp32: 4
    case .fp16, .bf16: 2
    case .int8: 1
    }
  }
}
