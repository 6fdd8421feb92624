import Foundation
import PackagePlugin

/// A build-tool plugin: every `*.netspec.yaml` file of a target becomes a Swift file of
/// kernels (`netc emit --embed-weights`), compiled into that target at build time.
@main
struct NetcEmitPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    guard let module = target.sourceModule else { return [] }
    let netc = try context.tool(named: "netc").url
    return module.sourceFiles(withSuffix: ".netspec.yaml").map { file in
      let stem = String(file.url.lastPathComponent.dropLast(".netspec.yaml".count))
      let output = context.pluginWorkDirectoryURL.appendingPathComponent("\(stem).swift")
      return .buildCommand(
        displayName: "netc emit \(file.url.lastPathComponent)",
        executable: netc,
        arguments: ["emit", file.url.path, "-o", output.path, "--embed-weights"],
        inputFiles: [file.url],
        outputFiles: [output])
    }
  }
}
