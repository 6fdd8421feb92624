import NetcBackends
import NetcDiagnostics
import NetcFrontend
import NetcIR

/// Reads a tensor argument of the command line: a path to a `.npy` file, to a JSON/YAML
/// file, or an inline literal (`[[1, 2], [3, 4]]`, `2`).
enum TensorArgument {
  /// The tensor `text` names or writes. `what` (`--input`) names it in messages; the
  /// source files read are appended to `sources` for diagnostic snippets.
  static func read<T: TensorScalar>(_ text: String, what: String, sources: inout [SourceFile], as: T.Type = T.self)
    throws(DiagnosticError) -> Tensor<T>
  {
    let looksLikePath =
      FileSystem.exists(text) || text.hasSuffix(".npy") || text.hasSuffix(".json") || text.hasSuffix(".yaml")
      || text.hasSuffix(".yml")
    if looksLikePath {
      let bytes: [UInt8]
      do { bytes = try FileSystem.read(text) } catch {
        throw DiagnosticError([.error(.weightFile, "\(what): \(error.message)", at: nil)])
      }
      return try decode(bytes, path: text, what: what, sources: &sources)
    }
    return try Tensor(TensorLiteralReader.read(inline: text, what: what, sources: &sources))
  }

  /// The tensor in the bytes of file `path`: `.npy` (by its magic or its name), else a
  /// JSON/YAML literal. The source read is appended to `sources`.
  static func decode<T: TensorScalar>(
    _ bytes: [UInt8], path: String, what: String, sources: inout [SourceFile], as: T.Type = T.self
  ) throws(DiagnosticError) -> Tensor<T> {
    if bytes.first == 0x93 || path.hasSuffix(".npy") {
      do { return try NpyFile.decode(bytes, path: path) } catch {
        throw DiagnosticError([.error(.weightFile, "\(what): \(error.message)", at: nil)])
      }
    }
    return try Tensor(TensorLiteralReader.read(bytes, path: path, what: what, sources: &sources))
  }
}
