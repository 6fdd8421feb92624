import NetcDiagnostics
import NetcIR

/// A spec read and lowered: its IR, its source and what the IR does not hold.
public struct Spec: Sendable {
  /// The IR graph.
  public var graph: Graph
  /// The file it came from, for diagnostics.
  public var source: SourceFile
  /// The `weights:` mapping, lowered for `run` and `emit` to bind (and check) against shapes.
  public var weights: WeightsDecl?
  /// Vars declared under `vars:` that nothing uses, and blocks nobody instantiates.
  public var unusedVars: [VarDecl]
  /// Blocks defined and never used, with where they were defined.
  public var unusedBlocks: [(name: String, range: SourceRange)]
  /// Vars that repeat counts read: their values were given before lowering.
  public var repeatVars: [VarDecl] = []
}

/// Reads spec files into IR graphs.
public enum SpecLoader {
  /// Reads, parses and lowers the spec at `path`.
  public static func load(path: String) throws(DiagnosticError) -> Spec {
    try parse(SpecFileLoader.load(path: path))
  }

  /// Parses and lowers a spec from its source text; `repeatBindings` are the values of
  /// vars that repeat counts read (others are ignored).
  public static func parse(_ source: SourceFile, repeatBindings: [String: Int] = [:]) throws(DiagnosticError) -> Spec {
    try lower(YAMLReader.read(source), source: source, repeatBindings: repeatBindings)
  }

  /// Lowers a spec from its YAML document, already read from `source`.
  public static func lower(_ root: YAMLNode?, source: SourceFile, repeatBindings: [String: Int] = [:]) throws(DiagnosticError)
    -> Spec
  {
    try SpecLowering(file: source.path, repeatBindings: repeatBindings).lowerSpec(root, source: source)
  }

  /// The top-level keys of which a YAML document needs one to be meant as a spec.
  public static let markerKeys = ["netspec", "input", "inputs", "layers"]

  /// Whether a YAML document is meant as a spec: a mapping with a `netspec`, `input` or
  /// `layers` key. `netc check DIR` skips the YAML files that are not (a CI workflow, a
  /// docker-compose file, weights written as YAML); a broken spec keeps at least one of them.
  public static func isSpecDocument(_ root: YAMLNode?) -> Bool {
    root?.mapping?.contains { pair in pair.key.scalar.map(markerKeys.contains) ?? false } ?? false
  }

  /// The declared vars that repeat counts read, with their domains, found by lowering
  /// (also when lowering fails because they have no value): `solve` and `check` lower the
  /// spec once per combination of their values.
  public static func repeatVars(_ source: SourceFile) -> [VarDecl] {
    guard let root = try? YAMLReader.read(source) else { return [] }
    let lowering = SpecLowering(file: source.path)
    _ = try? lowering.lowerSpec(root, source: source)
    return lowering.vars.values.filter { lowering.repeatVars.contains($0.name) }.sorted { $0.range.start < $1.range.start }
  }
}
