import NetcBackends
import NetcDiagnostics

/// A spec imported from an ONNX model: its text and the weights keyed as `netc run
/// --weights DIR` reads them (`LAYER.KIND`, the layer's full dotted name).
public struct ImportedSpec {
  public var text: String
  public var weights: [(name: String, tensor: Tensor<Float>)]
  /// The netc layers, merges included.
  public var layerCount: Int
  public var opset: Int
  /// The nodes a partial import left out (empty without `partial`).
  public var unimported: [UnimportedNode] = []
  /// The graph's optional inputs (transformers' `attention_mask`, `token_type_ids`,
  /// `position_ids`) read as constants: each `` `NAME` as VALUE (WHY) ``.
  public var assumed: [String] = []
}

/// Reads an ONNX model (as `torch.onnx.export`, either exporter, writes CNNs and MLPs)
/// into netc's vocabulary: see docs/onnx.md.
public enum ONNXImport {
  /// The spec of the model at `path`. Errors are NS001 (unreadable), NS601 (no valid
  /// model) and NS602 (a node or graph netc cannot express). With `partial`, a node netc
  /// cannot import is left out and listed (`unimported`), with every node that reads
  /// its output; the spec ends at the graph's output when it is still computed, else at
  /// the last layer nothing reads.
  public static func read(_ path: String, partial: Bool = false) throws(DiagnosticError) -> ImportedSpec {
    try spec(of: ONNXModelFile(path: path), partial: partial)
  }

  /// The spec of a model given as bytes, as if read from `path` (external data paths are
  /// relative to its folder).
  public static func read(bytes: [UInt8], path: String, partial: Bool = false) throws(DiagnosticError) -> ImportedSpec {
    try spec(of: ONNXModelFile(bytes: bytes, path: path), partial: partial)
  }

  static func spec(of file: ONNXModelFile, partial: Bool) throws(DiagnosticError) -> ImportedSpec {
    let path = file.path
    var recognizer = ONNXLayerRecognizer(file: file)
    recognizer.partial = partial
    try recognizer.recognize()
    // A graph whose output is its input (a partial import that kept no layer on the way
    // to it, too) has no layer for a spec to hold.
    guard !recognizer.isInput(recognizer.output) else {
      throw DiagnosticError([
        .error(
          .onnxUnsupported,
          "`\(path)`: the graph's output `\(recognizer.layers[0].outputName.prefix(80))` is its input; netc imports networks of at least one layer",
          at: nil)
      ])
    }
    if file.model.producerName == "netc" { ModulePath.fromNetc(&recognizer.layers) }
    if recognizer.sequence { ModulePath.shorten(&recognizer.layers) }
    var structure = SeriesParallel(recognizer.layers, path: path)
    let items = try structure.items(to: recognizer.output)
    var writer = SpecWriter(layers: recognizer.layers)
    let model = file.model
    var header = ["Imported by `netc import` from \(fileName(path)) (ONNX opset \(recognizer.opset)"]
    if !model.producerName.isEmpty { header[0] += ", written by \(model.producerName) \(model.producerVersion)" }
    header[0] += ")."
    if !recognizer.assumed.isEmpty {
      header.append("Inputs read as constants (the spec takes the token ids only):")
      header += recognizer.assumed.map { "  \($0)" }
    }
    let left = recognizer.unimported
    if !left.isEmpty {
      header.append("Partial (--partial): \(left.count) node\(left.count == 1 ? "" : "s") not imported:")
      header += left.prefix(100).map { "  \($0.name) (\($0.opType)) \($0.reason)" }
      if left.count > 100 { header.append("  ... and \(left.count - 100) more") }
    }
    header = header.map(printable)
    let text = writer.write(items, name: specName(model.graph.name, path: path), header: header)
    return ImportedSpec(
      text: text, weights: writer.weights, layerCount: recognizer.layers.count - 1 - recognizer.unreached, opset: recognizer.opset,
      unimported: left, assumed: recognizer.assumed)
  }

  /// `text` with everything but printable ASCII as `?`, at most 200 characters: the
  /// producer's name and the file's go into a YAML comment, which takes no control
  /// characters (and a newline would end it).
  static func printable(_ text: String) -> String {
    String(String.UnicodeScalarView(text.unicodeScalars.prefix(200).map { $0.value >= 0x20 && $0.value < 0x7F ? $0 : "?" }))
  }

  static func fileName(_ path: String) -> String {
    path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
  }

  /// The graph's name when it is a word (TorchScript's `main_graph` is not), else the
  /// file's name without `.onnx`.
  static func specName(_ graphName: String, path: String) -> String {
    var stem = fileName(path)
    if stem.hasSuffix(".onnx") { stem.removeLast(5) }
    let generic: Set<String> = ["", "main_graph", "main", "graph", "torch_jit", "torch-jit-export"]
    let base = generic.contains(graphName) ? stem : graphName
    let name = ModulePath.localName(base, in: nil)
    return name.isEmpty ? "imported" : name
  }
}
