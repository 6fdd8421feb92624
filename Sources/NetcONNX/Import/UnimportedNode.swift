/// A node that `--partial` left out of an import, and why: its op type is not one netc
/// imports, netc cannot express its attributes, it reads the output of a node left out,
/// or it is not on the path to the spec's output.
public struct UnimportedNode: Equatable, Sendable {
  /// The node's name (its output's when the node has none).
  public var name: String
  public var opType: String
  /// Lowercase, without the file and node: `has op type LRN, which netc does not import`.
  public var reason: String

  public init(name: String, opType: String, reason: String) {
    self.name = name
    self.opType = opType
    self.reason = reason
  }
}
