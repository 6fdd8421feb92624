import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcONNX
import NetcPasses

/// libFuzzer's entry point: one input as the bytes of an ONNX model, imported as
/// `netc import` does (external data is looked up beside `/tmp/netc-onnx-fuzz/m.onnx`,
/// where there is none). Any error is fine; a crash, a trap, a hang or memory beyond a
/// bound is a finding, and so is an imported spec that netc itself rejects: what the
/// importer writes must lower and pass shape inference. Each input is imported whole and
/// with `partial` (`--partial`), whose spec must analyze too, its vars (symbolic lengths written
/// back) bound within their domains.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  for partial in [false, true] {
    let imported: ImportedSpec
    do { imported = try ONNXImport.read(bytes: bytes, path: "/tmp/netc-onnx-fuzz/m.onnx", partial: partial) } catch {
      _ = DiagnosticRenderer().render(error.diagnostics)
      continue
    }
    do {
      let spec = try SpecLoader.parse(SourceFile(path: "imported.yaml", text: imported.text))
      var bindings: [String: Int] = [:]
      for v in spec.graph.vars {
        switch v.domain {
        case .range(let r)?: bindings[v.name] = min(max(8, r.lowerBound), r.upperBound)
        case .list(let values)?: bindings[v.name] = values.first ?? 8
        case nil: bindings[v.name] = 8
        }
      }
      _ = try analyze(spec.graph, bindings: bindings)
    } catch {
      preconditionFailure("the imported spec (partial: \(partial)) does not analyze: \(error)\n\(imported.text)")
    }
  }
  return 0
}
