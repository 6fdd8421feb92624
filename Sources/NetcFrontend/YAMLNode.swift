import NetcDiagnostics

/// A node of a YAML document, with the source range it was written at.
///
/// Nodes are shared, not copied: an alias yields a node with the alias's own range whose
/// `kind` is the anchored node's (children are shared by reference), so a document with
/// many aliases stays as small in memory as its text.
public final class YAMLNode: Sendable {
  /// How a scalar was written; a quoted `"3"` is a string, never the number 3.
  public enum ScalarStyle: Sendable, Equatable {
    case plain, singleQuoted, doubleQuoted, literal, folded
  }

  /// What the node holds.
  public enum Kind: Sendable {
    case scalar(String, ScalarStyle)
    case sequence([YAMLNode])
    case mapping([YAMLPair])
  }

  /// The node's content.
  public let kind: Kind
  /// Where the node was written (for an alias: where the alias was written).
  public let range: SourceRange
  /// The explicit tag (`!!str`, `!custom`), if one was written.
  public let tag: String?
  /// How many nodes this node stands for with every alias expanded, saturating at `Int.max`.
  public let expandedSize: Int

  /// Creates a node; `expandedSize` is computed from the children.
  public init(kind: Kind, range: SourceRange, tag: String? = nil) {
    self.kind = kind
    self.range = range
    self.tag = tag
    var size = 1
    switch kind {
    case .scalar: break
    case .sequence(let items):
      for item in items { size = YAMLNode.saturatingAdd(size, item.expandedSize) }
    case .mapping(let pairs):
      for pair in pairs {
        size = YAMLNode.saturatingAdd(size, pair.key.expandedSize)
        size = YAMLNode.saturatingAdd(size, pair.value.expandedSize)
      }
    }
    self.expandedSize = size
  }

  /// The same content seen from another place (an alias), keeping the children shared.
  public func aliased(at range: SourceRange) -> YAMLNode {
    YAMLNode(kind: kind, range: range, tag: tag, expandedSize: expandedSize)
  }

  private init(kind: Kind, range: SourceRange, tag: String?, expandedSize: Int) {
    self.kind = kind
    self.range = range
    self.tag = tag
    self.expandedSize = expandedSize
  }

  private static func saturatingAdd(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : sum
  }

  /// The scalar's text, or nil for a sequence or mapping.
  public var scalar: String? {
    if case .scalar(let text, _) = kind { return text }
    return nil
  }

  /// True for a plain (unquoted) scalar, the only kind YAML reads as a number or boolean.
  public var isPlainScalar: Bool {
    if case .scalar(_, .plain) = kind { return tag == nil }
    return false
  }

  /// The items of a sequence, or nil.
  public var sequence: [YAMLNode]? {
    if case .sequence(let items) = kind { return items }
    return nil
  }

  /// The pairs of a mapping, or nil.
  public var mapping: [YAMLPair]? {
    if case .mapping(let pairs) = kind { return pairs }
    return nil
  }

  /// A word for the node's kind, for messages: "a mapping", "a list", "a string".
  public var kindDescription: String {
    switch kind {
    case .scalar(let text, let style):
      if style == .plain && (text.isEmpty || text == "~" || text == "null") { return "null" }
      return "a scalar `\(text.count > 40 ? String(text.prefix(40)) + "…" : text)`"
    case .sequence: return "a list"
    case .mapping: return "a mapping"
    }
  }
}

/// One key-value pair of a mapping, in document order.
public struct YAMLPair: Sendable {
  /// The key node (a scalar in every netspec document).
  public let key: YAMLNode
  /// The value node.
  public let value: YAMLNode

  /// Creates a pair.
  public init(key: YAMLNode, value: YAMLNode) {
    self.key = key
    self.value = value
  }
}
