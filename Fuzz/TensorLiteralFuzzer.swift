import NetcBackends
import NetcDiagnostics
import NetcFrontend
import NetcIR

/// libFuzzer's entry point: one input as a JSON/YAML tensor file (`--input x.json`),
/// through the two steps `netc run` takes for one (`TensorLiteralReader`: YAML with its
/// tensor-file limits, then the literal's shape and numbers; `Tensor(literal)`: the
/// precision), at both precisions; the diagnostics are rendered against the source,
/// which walks every range. Any diagnostic is fine; a crash, a trap, a hang or unbounded
/// memory is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTensorLiteral(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  // A leading 0x93 would make it an .npy file, which the npy target covers.
  guard bytes.first != 0x93 else { return 0 }
  var sources: [SourceFile] = []
  do {
    let t = try Tensor<Float>(TensorLiteralReader.read(bytes, path: "fuzz.json", what: "--input", sources: &sources))
    precondition(t.data.count == t.shape.reduce(1, *), "shape \(t.shape) but \(t.data.count) elements")
  } catch {
    _ = DiagnosticRenderer(sources: sources).render(error.diagnostics)
  }
  sources = []
  do {
    let t = try Tensor<Double>(TensorLiteralReader.read(bytes, path: "fuzz.yaml", what: "--input", sources: &sources))
    precondition(t.data.count == t.shape.reduce(1, *), "shape \(t.shape) but \(t.data.count) elements")
  } catch {
    _ = DiagnosticRenderer(sources: sources).render(error.diagnostics)
  }
  return 0
}
