import Foundation
import NetcTestSupport
import Testing

@testable import NetcBackends

/// Builds and runs Examples/EmitPlugin, whose kernels the NetcEmitPlugin generates from
/// `tiny.netspec.yaml` at build time. Building the example builds netc itself (minutes on
/// two cores), so the test runs only with NETC_PLUGIN_TEST=1; its scratch directory is
/// kept under .build so later runs are incremental.
@Suite struct EmitPluginExampleTests {
  @Test(
    .enabled(
      if: ProcessInfo.processInfo.environment["NETC_PLUGIN_TEST"] == "1",
      "builds Examples/EmitPlugin, and netc with it (minutes on two cores): run with NETC_PLUGIN_TEST=1"))
  func examplePackageBuildsAndRuns() throws {
    let swiftc = try #require(try SwiftToolchain.swiftc())
    let swift = URL(fileURLWithPath: swiftc).deletingLastPathComponent().appendingPathComponent("swift").path
    let example = repositoryPath("Examples/EmitPlugin")
    let scratch = repositoryPath(".build/plugin-example")
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("netc-plugin-\(UUID().uuidString)").path
    let status = SwiftToolchain.run(
      [swift, "run", "--package-path", example, "--scratch-path", scratch, "TinyNet"], stdout: log + ".out", stderr: log + ".err")
    let out = SwiftToolchain.readText(log + ".out")
    #expect(status == 0, "swift run failed:\n\(SwiftToolchain.readText(log + ".err"))")
    // FC weights are all 0.01 and its bias 0, so the 4 logits are equal and softmax gives 1/4 each.
    #expect(out.contains("input [8, 8, 3] -> output [4]: [0.25, 0.25, 0.25, 0.25]"), "output: \(out)")
  }
}
