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
    let root = try YAMLReader.read(source)
    let lowering = SpecLowering(file: source.path)
    return try lowering.lowerSpec(root, source: source)
  }
}
