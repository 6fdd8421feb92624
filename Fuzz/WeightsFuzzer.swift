import NetcBackends
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses

#if canImport(Glibc)
  import Glibc
#endif

/// libFuzzer's entry point: weights for a small spec, as `netc run --weights` and a spec's
/// `weights:` give them, bound by `WeightBinding`. The input is a `weights:` mapping, then
/// files of a weights directory, each after a line `--- NAME`:
///
///     conv1: { bias: 0.5, weight: conv1.weight.npy }
///     --- conv1.weight.npy
///     \x93NUMPY...
///
/// The files are written to a scratch directory (names keep `[A-Za-z0-9._-]`, no leading
/// dot; `/` in the mapping becomes `_`, so every path stays inside it), then the mapping
/// and the directory are bound, in that order, to a CNN, or to a transformer when the input
/// starts with `# transformer`, at both precisions. Any diagnostic is fine; a crash, a trap, a hang or
/// unbounded memory is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWeights(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  let (mapping, files) = split(bytes)
  let dir = WeightsScratch.directory
  for name in WeightsScratch.written { unlink(dir + "/" + name) }
  WeightsScratch.written = []
  for (name, contents) in files where !WeightsScratch.written.contains(name) {
    let fd = open(dir + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { continue }
    WeightsScratch.written.append(name)
    _ = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
  }
  let target = WeightsScratch.specs[bytes.starts(with: Array("# transformer".utf8)) ? 1 : 0]
  var sources: [WeightSource] = [.directory(dir)]
  var texts: [SourceFile] = []
  if let source = try? SpecFileLoader.source(
    bytes: mapping.map { $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 }, path: dir + "/weights.yaml")
  {
    texts.append(source)
    if let root = try? YAMLReader.read(source) { sources.insert(.mapping(WeightsDecl(root), file: source.path), at: 0) }
  }
  bind(target, sources, Float.self, texts)
  bind(target, sources, Double.self, texts)
  return 0
}

func bind<T: TensorScalar>(_ target: (Graph, Shapes), _ sources: [WeightSource], _: T.Type, _ files: [SourceFile]) {
  do {
    let bound = try WeightBinding.bind(target.0, target.1, sources: sources, seed: 1, as: T.self)
    for node in target.0.layers {
      for (kind, shape) in parameterShapes(node, target.1.nodes[node.id]) {
        // A tied weight is bound once, at its owner, and shared by the interpreter.
        if kind == .weight, node.attributes.tiedTo != nil {
          precondition(bound[node.id]?[kind] == nil, "`\(node.name).weight` is tied but bound twice")
          continue
        }
        precondition(bound[node.id]?[kind]?.shape == shape, "`\(node.name).\(kind.rawValue)` is not \(shape)")
      }
    }
  } catch {
    _ = DiagnosticRenderer(sources: files).render(error.diagnostics)
  }
}

/// The mapping (the bytes before the first `--- ` line) and the files after it.
func split(_ bytes: [UInt8]) -> (mapping: [UInt8], files: [(String, [UInt8])]) {
  let marker = Array("--- ".utf8)
  var starts: [Int] = []
  var i = 0
  while i + marker.count <= bytes.count {
    if (i == 0 || bytes[i - 1] == UInt8(ascii: "\n")) && Array(bytes[i..<(i + marker.count)]) == marker { starts.append(i) }
    i += 1
  }
  guard let first = starts.first else { return (bytes, []) }
  var files: [(String, [UInt8])] = []
  for (k, start) in starts.enumerated() {
    let end = k + 1 < starts.count ? starts[k + 1] - 1 : bytes.count
    let body = bytes[(start + marker.count)..<max(start + marker.count, end)]
    let newline = body.firstIndex(of: UInt8(ascii: "\n")) ?? body.endIndex
    let name = String(decoding: body[..<newline], as: UTF8.self)
    let ok =
      !name.isEmpty && name.count <= 64 && !name.hasPrefix(".")
      && name.unicodeScalars.allSatisfy {
        $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
      }
    guard ok else { continue }
    files.append((name, Array(body[min(newline + 1, body.endIndex)...])))
  }
  return (Array(bytes[..<first]), files)
}

/// The scratch directory, the files the last input wrote, and the specs, made once.
enum WeightsScratch {
  nonisolated(unsafe) static var written: [String] = []
  static let directory: String = {
    var template = Array("/tmp/netc-fuzz-weights-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { fatalError("cannot create a scratch directory") }
    // Removed when libFuzzer exits (at the end of its time, or after a finding).
    atexit {
      for name in WeightsScratch.written { unlink(WeightsScratch.directory + "/" + name) }
      rmdir(WeightsScratch.directory)
    }
    return String(cString: made)
  }()
  static let specs: [(Graph, Shapes)] = [
    """
    name: cnn
    input: 6x6x3
    layers:
      - CONV3-4 pad 1
      - BN
      - RELU
      - DWCONV3 pad 1 bias false
      - PWCONV-5
      - residual: { body: [CONV3-8 stride 2 pad 1, BN], shortcut: auto }
      - SEPCONV3-6 pad 1
      - GAP
      - FLATTEN
      - FC-3
    """,
    """
    name: transformer
    input: 5 tokens
    layers:
      - EMBED-8 vocab 10
      - POSEMBED-5
      - LN
      - ATTN-2 kv 1 causal
      - RMSNORM
      - LINEAR-16
      - GELU
      - LINEAR-8 bias false
      - LAYERSCALE
      - LINEAR-10 tie embed1
    """,
  ].map { (text: String) -> (Graph, Shapes) in
    do {
      let spec = try SpecLoader.parse(SourceFile(path: "spec.yaml", text: text + "\n"))
      return (spec.graph, try inferShapes(spec.graph, bindings: [:]))
    } catch {
      fatalError(
        "the weights fuzzer's spec no longer lowers:\n" + DiagnosticRenderer().render((error as? DiagnosticError)?.diagnostics ?? []))
    }
  }
}
