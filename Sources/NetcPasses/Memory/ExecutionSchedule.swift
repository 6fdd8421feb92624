import NetcIR

/// How a backend runs a graph, as far as its activations' memory goes: its steps in order,
/// the values each reads, and where each writes its value. `analyze --memory` plans the
/// unfused schedule (one step per node, every value in a buffer of its own); `run`'s output
/// pass hands the planner its fused one (BN, residual ADD and activation folded into the
/// conv's store, a residual overwritten in place, the input read where the caller keeps
/// it), so the arena the planner lays out is the one that pass allocates.
public struct ExecutionSchedule: Sendable {
  /// Where a step's value goes.
  public enum Placement: Hashable, Sendable {
    /// A buffer of its own in the arena.
    case own
    /// The buffer of that node's value (which it passes through unchanged).
    case alias(Int)
    /// The buffer of that node's value, which the step reads for the last time and overwrites.
    case over(Int)
    /// Outside the arena (the caller's input).
    case external
  }

  /// One step: it reads `reads` and writes the value of node `value`.
  public struct Step: Hashable, Sendable {
    public var value: Int
    public var reads: [Int]
    public var placement: Placement

    /// Creates a step.
    public init(value: Int, reads: [Int], placement: Placement) {
      self.value = value
      self.reads = reads
      self.placement = placement
    }
  }

  /// The steps in the order they run.
  public var steps: [Step]

  /// Creates a schedule.
  public init(steps: [Step]) { self.steps = steps }

  /// One step per node in graph order (step 0 writes the input); ops that pass their input
  /// through at inference (identity, dropout, drop path, and so the elided projections
  /// `resolveShortcuts` made identities) share their input's buffer.
  public static func unfused(_ graph: Graph) -> ExecutionSchedule {
    ExecutionSchedule(
      steps: graph.nodes.map { node in
        let passes = node.id > 0 && node.op.traits.contains(.aliasAtInference)
        let placement: Placement = passes ? node.inputs.first.map { .alias($0) } ?? .own : .own
        return Step(value: node.id, reads: node.inputs, placement: placement)
      })
  }
}
