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
}

/// Reads an ONNX model (as `torch.onnx.export`, either exporter, writes CNNs and MLPs)
/// into netc's vocabulary: see docs/onnx.md.
public enum ONNXImport {
  /// The spec of the model at `path`. Errors are NS001 (unreadable), NS601 (no valid
  /// model) and NS602 (a node or graph netc cannot express).
  public static func read(_ path: String) throws(DiagnosticError) -> ImportedSpec {
    try spec(of: ONNXModelFile(path: path))
  }

  /// The spec of a model given as bytes, as if read from `path` (external data paths are
  /// relative to its folder).
  public static func read(bytes: [UInt8], path: String) throws(DiagnosticError) -> ImportedSpec {
    try spec(of: ONNXModelFile(bytes: bytes, path: path))
  }

  static func spec(of file: ONNXModelFile) throws(DiagnosticError) -> ImportedSpec {
    let path = file.path
    var recognizer = ONNXLayerRecognizer(file: file)
    try recognizer.recognize()
    var structure = SeriesParallel(recognizer.layers, path: path)
    let items = try structure.items(to: recognizer.output)
    var writer = SpecWriter(layers: recognizer.layers)
    let model = file.model
    var header = ["Imported by `netc import` from \(fileName(path)) (ONNX opset \(recognizer.opset)"]
    if !model.producerName.isEmpty { header[0] += ", written by \(model.producerName) \(model.producerVersion)" }
    header[0] += ")."
    header = header.map(printable)
    let text = writer.write(items, name: specName(model.graph.name, path: path), header: header)
    return ImportedSpec(text: text, weights: writer.weights, layerCount: recognizer.layers.count - 1, opset: recognizer.opset)
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
