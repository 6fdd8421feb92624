import NetcDiagnostics

/// One operation of the graph, with where it was written.
public struct Node: Hashable, Sendable {
  /// The node's index in `Graph.nodes`.
  public var id: Int
  /// The full dotted name: `res3.body.conv2`.
  public var name: String
  /// The operation.
  public var op: OpKind
  /// The nodes it reads, by id (one, or several for merges).
  public var inputs: [Int]
  /// The op's attributes.
  public var attributes: Attributes
  /// Where the layer was written.
  public var range: SourceRange
  /// Where its head word (`CONV3-20`) was written, for pointed messages.
  public var headRange: SourceRange
  /// How many structures enclose it (0 at top level).
  public var depth: Int
  /// The asserted output shape, if any.
  public var expect: ShapePattern?
  /// Asserted figures (`expect: { params: 3620 }`).
  public var expectedFigures: [FigureExpectation] = []

  /// Creates a node.
  public init(
    id: Int, name: String, op: OpKind, inputs: [Int], attributes: Attributes = Attributes(),
    range: SourceRange, headRange: SourceRange? = nil, depth: Int, expect: ShapePattern? = nil
  ) {
    self.id = id
    self.name = name
    self.op = op
    self.inputs = inputs
    self.attributes = attributes
    self.range = range
    self.headRange = headRange ?? range
    self.depth = depth
    self.expect = expect
  }
}

/// A structure of the spec (residual, parallel, repeat, block instance, separable conv) as
/// a contiguous run of nodes, so reports can fold it.
public struct Group: Hashable, Sendable {
  /// What kind of structure.
  public enum Kind: String, Hashable, Sendable {
    case residual, parallel, `repeat`, copy, block, sepconv, body, shortcut, branch, moe, expert
  }

  /// The full dotted name.
  public var name: String
  /// The kind of structure.
  public var kind: Kind
  /// How many structures enclose it.
  public var depth: Int
  /// The ids of its first and last node; its output is the last node's.
  public var nodes: ClosedRange<Int>
  /// Where it was written.
  public var range: SourceRange

  /// Creates a group.
  public init(name: String, kind: Kind, depth: Int, nodes: ClosedRange<Int>, range: SourceRange) {
    self.name = name
    self.kind = kind
    self.depth = depth
    self.nodes = nodes
    self.range = range
  }
}
