import NetcDiagnostics
import NetcIR

/// A spec read and lowered: its IR, its source and what the IR does not hold.
public struct Spec: Sendable {
  /// The IR graph.
  public var graph: Graph
  /// The file it came from, for diagnostics.
  public var source: SourceFile
  /// The `weights:` mapping, left for `run` and `emit` to read.
  public var weights: YAMLNode?
  /// Vars declared under `vars:` that nothing uses, and blocks nobody instantiates.
  public var unusedVars: [VarDecl]
  /// Blocks defined and never used, with where they were defined.
  public var unusedBlocks: [(name: String, range: SourceRange)]
}

/// Reads spec files into IR graphs.
public enum SpecLoader {
  /// Reads, parses and lowers the spec at `path`.
  public static func load(path: String) throws(DiagnosticError) -> Spec {
    try parse(SpecFileLoader.load(path: path))
  }

  /// Parses and lowers a spec from its source text.
  public static func parse(_ source: SourceFile) throws(DiagnosticError) -> Spec {
    try lower(YAMLReader.read(source), source: source)
  }

  /// Lowers a spec from its YAML document, already read from `source`.
  public static func lower(_ root: YAMLNode?, source: SourceFile) throws(DiagnosticError) -> Spec {
    try SpecLowering(file: source.path).lowerSpec(root, source: source)
  }

  /// The top-level keys of which a YAML document needs one to be meant as a spec.
  public static let markerKeys = ["netspec", "input", "layers"]

  /// Whether a YAML document is meant as a spec: a mapping with a `netspec`, `input` or
  /// `layers` key. `netc check DIR` skips the YAML files that are not (a CI workflow, a
  /// docker-compose file, weights written as YAML); a broken spec keeps at least one of them.
  public static func isSpecDocument(_ root: YAMLNode?) -> Bool {
    root?.mapping?.contains { pair in pair.key.scalar.map(markerKeys.contains) ?? false } ?? false
  }
}
