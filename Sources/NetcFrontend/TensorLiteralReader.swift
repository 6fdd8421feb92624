import NetcDiagnostics
import NetcIR

/// Reads tensors written as JSON or YAML, in a file or inline on the command line.
public enum TensorLiteralReader {
  /// The largest JSON/YAML tensor file read: 256 MB (an `.npy` may be larger).
  public static let maxBytes = 1 << 28

  /// The tensor in the bytes of the JSON/YAML file `path`. `what` (`--input`) names it in
  /// messages; the source read is appended to `sources` for diagnostic snippets.
  public static func read(_ bytes: [UInt8], path: String, what: String, sources: inout [SourceFile]) throws(DiagnosticError)
    -> TensorLiteral
  {
    guard bytes.count <= maxBytes else {
      throw DiagnosticError([
        .error(
          .sizeLimit, "\(what): `\(path)` is \(bytes.count) bytes; netc reads JSON/YAML tensors of up to \(maxBytes) bytes",
          at: nil, notes: [.init("save a large tensor as .npy")])
      ])
    }
    let source = try SpecFileLoader.source(bytes: bytes, path: path)
    sources.append(source)
    return try literal(YAMLReader.read(source, limits: YAMLLimits(maxExpandedNodes: 64_000_000)), what: what)
  }

  /// The tensor an inline literal writes (`[[1, 2], [3, 4]]`, `2`), named `what`.
  public static func read(inline text: String, what: String, sources: inout [SourceFile]) throws(DiagnosticError) -> TensorLiteral {
    let source = SourceFile(path: what, text: text)
    sources.append(source)
    return try literal(YAMLReader.read(source), what: what)
  }

  static func literal(_ node: YAMLNode?, what: String) throws(DiagnosticError) -> TensorLiteral {
    guard let node else {
      throw DiagnosticError([.error(.wrongType, "\(what) is empty; expected a number or nested lists of numbers", at: nil)])
    }
    return TensorLiteral(node)
  }
}
