import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses

/// libFuzzer's entry point: one input through the whole front end and the analyses that
/// `netc check` runs. Any outcome is fine except a crash, a trap, a hang or a leak of
/// memory: libFuzzer and the address sanitizer report those.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrontend(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  do {
    let source = try SpecFileLoader.source(bytes: bytes, path: "fuzz.yaml")
    let spec = try SpecLoader.parse(source)
    let diagnostics = checkSpec(spec.graph, unusedVars: spec.unusedVars, unusedBlocks: spec.unusedBlocks)
    // Rendering walks every range into the source: it must not trap either.
    _ = DiagnosticRenderer(sources: [source]).render(diagnostics)
  } catch {
    _ = DiagnosticRenderer().render(error.diagnostics)
  }
  return 0
}
