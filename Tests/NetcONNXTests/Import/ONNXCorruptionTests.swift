import Foundation
import NetcDiagnostics
import NetcFrontend
import NetcONNX
import NetcPasses
import Testing

/// The importer on damaged copies of the fixtures: every truncation and a few thousand
/// random byte changes. Each is an error or a spec that netc analyzes; the test fails on
/// anything else (and a crash or trap ends it). `scripts/fuzz.sh onnx` searches further.
@Suite struct ONNXCorruptionTests {
  static let models = ["cnn_bn_kept", "residual", "concat", "repeat", "decoder"]

  /// Imported whole and with `partial`: each an error or a spec that analyzes.
  func survive(_ bytes: [UInt8], _ what: String) {
    for partial in [false, true] {
      guard let imported = try? ONNXImport.read(bytes: bytes, path: "/nonexistent/m.onnx", partial: partial) else { continue }
      do {
        let spec = try SpecLoader.parse(SourceFile(path: "m.yaml", text: imported.text))
        _ = try analyze(spec.graph)
      } catch {
        Issue.record("\(what) (partial: \(partial)): the imported spec does not analyze: \(error)\n\(imported.text)")
      }
    }
  }

  @Test(arguments: models)
  func everyTruncation(_ name: String) throws {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ONNXImportTests.folder + "/\(name).onnx")))
    for n in 0..<bytes.count { survive(Array(bytes.prefix(n)), "\(name) cut to \(n) bytes") }
  }

  @Test(arguments: models)
  func randomByteChanges(_ name: String) throws {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ONNXImportTests.folder + "/\(name).onnx")))
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {
      // SplitMix64: reproducible without a seed file.
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    for trial in 0..<1_500 {
      var b = bytes
      for _ in 0..<(1 + Int(next() % 4)) {
        b[Int(next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: next())
      }
      survive(b, "\(name) trial \(trial)")
    }
  }
}
