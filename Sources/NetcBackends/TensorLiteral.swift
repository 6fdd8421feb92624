import NetcDiagnostics
import NetcFrontend

/// Tensors written as YAML/JSON: a number, or nested lists of numbers (outermost first).
public enum TensorLiteral {
  /// The tensor a YAML node writes: a plain number gives a scalar (shape `[]`), nested lists
  /// give their nesting as the shape. Ragged lists and non-numbers are errors at their node.
  public static func read<T: TensorScalar>(_ node: YAMLNode, as: T.Type = T.self) throws(DiagnosticError) -> Tensor<T> {
    var data: [T] = []
    let shape = try shapeOf(node)
    data.reserveCapacity(shape.reduce(1, *))
    try collect(node, depth: 0, shape: shape, into: &data)
    return Tensor(shape: shape, data: data)
  }

  /// A number from a plain scalar: integers, decimals, exponents, `.inf`, `.nan`.
  public static func number(_ node: YAMLNode) -> Double? {
    guard node.isPlainScalar, let text = node.scalar else { return nil }
    switch text.lowercased() {
    case ".inf", "+.inf": return .infinity
    case "-.inf": return -.infinity
    case ".nan": return .nan
    default: return Double(text)
    }
  }

  static func shapeOf(_ node: YAMLNode) throws(DiagnosticError) -> [Int] {
    var shape: [Int] = []
    var n = node
    while let items = n.sequence {
      shape.append(items.count)
      guard let first = items.first else { break }
      n = first
    }
    return shape
  }

  static func collect<T: TensorScalar>(_ node: YAMLNode, depth: Int, shape: [Int], into data: inout [T]) throws(DiagnosticError) {
    if depth == shape.count {
      guard let v = number(node) else {
        throw DiagnosticError([.error(.wrongType, "expected a number, got \(node.kindDescription)", at: node.range)])
      }
      let t = T(v)
      // 1e40 is a finite Double but infinite in fp32: an error rather than a silent inf.
      guard t.isFinite || !v.isFinite else {
        throw DiagnosticError([
          .error(
            .invalidValue, "\(node.scalar ?? "this number") is out of range for \(T.npyDescriptor == "<f4" ? "fp32" : "fp64")",
            at: node.range)
        ])
      }
      data.append(t)
      return
    }
    guard let items = node.sequence else {
      throw DiagnosticError([
        .error(
          .weightShape, "ragged nesting: expected a list of \(shape[depth]) at depth \(depth + 1), got \(node.kindDescription)",
          at: node.range)
      ])
    }
    guard items.count == shape[depth] else {
      throw DiagnosticError([
        .error(.weightShape, "ragged nesting: this list has \(items.count) items, its first sibling has \(shape[depth])", at: node.range)
      ])
    }
    for item in items { try collect(item, depth: depth + 1, shape: shape, into: &data) }
  }
}

/// Reads a tensor argument of the command line: a path to a `.npy` file, to a JSON/YAML
/// file, or an inline literal (`[[1, 2], [3, 4]]`, `2`).
public enum TensorArgument {
  /// The tensor `text` names or writes. `what` (`--input`) names it in messages; the
  /// source files read are appended to `sources` for diagnostic snippets.
  public static func read<T: TensorScalar>(_ text: String, what: String, sources: inout [SourceFile], as: T.Type = T.self)
    throws(DiagnosticError) -> Tensor<T>
  {
    let looksLikePath =
      FileIO.exists(text) || text.hasSuffix(".npy") || text.hasSuffix(".json") || text.hasSuffix(".yaml") || text.hasSuffix(".yml")
    if looksLikePath {
      let bytes: [UInt8]
      do { bytes = try FileIO.read(text) } catch {
        throw DiagnosticError([.error(.weightFile, "\(what): \(error.message)", at: nil)])
      }
      return try decode(bytes, path: text, what: what, sources: &sources)
    }
    let source = SourceFile(path: what, text: text)
    sources.append(source)
    return try literal(YAMLReader.read(source), source: source, what: what)
  }

  /// The largest JSON/YAML tensor file read: 256 MB (an `.npy` may be larger).
  static let maxLiteralBytes = 1 << 28

  /// The tensor in the bytes of file `path`: `.npy` (by its magic or its name), else a
  /// JSON/YAML literal. The source read is appended to `sources`.
  public static func decode<T: TensorScalar>(
    _ bytes: [UInt8], path: String, what: String, sources: inout [SourceFile], as: T.Type = T.self
  ) throws(DiagnosticError) -> Tensor<T> {
    if bytes.first == 0x93 || path.hasSuffix(".npy") {
      do { return try NpyFile.decode(bytes, path: path) } catch {
        throw DiagnosticError([.error(.weightFile, "\(what): \(error.message)", at: nil)])
      }
    }
    guard bytes.count <= maxLiteralBytes else {
      throw DiagnosticError([
        .error(
          .sizeLimit, "\(what): `\(path)` is \(bytes.count) bytes; netc reads JSON/YAML tensors of up to \(maxLiteralBytes) bytes",
          at: nil, notes: [.init("save a large tensor as .npy")])
      ])
    }
    let source = try SpecFileLoader.source(bytes: bytes, path: path)
    sources.append(source)
    return try literal(YAMLReader.read(source, limits: YAMLLimits(maxExpandedNodes: 64_000_000)), source: source, what: what)
  }

  static func literal<T: TensorScalar>(_ node: YAMLNode?, source: SourceFile, what: String) throws(DiagnosticError) -> Tensor<T> {
    guard let node else {
      throw DiagnosticError([.error(.wrongType, "\(what) is empty; expected a number or nested lists of numbers", at: nil)])
    }
    return try TensorLiteral.read(node)
  }
}
