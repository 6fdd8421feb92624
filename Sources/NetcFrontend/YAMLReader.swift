import CYAML
import NetcDiagnostics

/// Limits that keep hostile YAML bounded in time and memory.
public struct YAMLLimits: Sendable {
  /// The most nodes the document may stand for with aliases expanded.
  public var maxExpandedNodes: Int
  /// The deepest nesting of sequences and mappings.
  public var maxDepth: Int
  /// The longest scalar, in bytes.
  public var maxScalarBytes: Int

  /// Creates limits.
  public init(maxExpandedNodes: Int = 4_000_000, maxDepth: Int = 200, maxScalarBytes: Int = 1 << 16) {
    self.maxExpandedNodes = maxExpandedNodes
    self.maxDepth = maxDepth
    self.maxScalarBytes = maxScalarBytes
  }

  /// The limits netc uses unless told otherwise.
  public static let `default` = YAMLLimits()
}

/// Reads one YAML document through libyaml's event API into a tree of `YAMLNode`s.
public enum YAMLReader {
  /// The document's root node, or nil for an empty document. PLACEHOLDER: replaced by the YAML work.
  public static func read(_ file: SourceFile, limits: YAMLLimits = .default) throws(DiagnosticError) -> YAMLNode? {
    _ = yaml_get_version_string()
    throw DiagnosticError([.error(.yamlSyntax, "YAML reading is not built yet", at: nil)])
  }
}
