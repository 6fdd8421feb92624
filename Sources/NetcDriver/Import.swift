import ArgumentParser
import NetcBackends
import NetcDiagnostics
import NetcONNX

/// `netc import`: an ONNX model as a spec, and its weights as netc's weight directory.
struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write an ONNX model as a spec (and its weights as .npy files).",
    discussion: """
      Reads CNNs and MLPs as torch.onnx.export writes them (either exporter, BN kept or \
      folded into the convs, weights inside the model or in an external data file): Conv, \
      BatchNormalization, activations, pools, Flatten/Reshape + Gemm/MatMul, Add residuals, \
      Concat and Mul branches. Layer names come from the graph. An op netc does not import \
      is an error naming the node (--partial writes the rest and lists each node left \
      out). `netc analyze model.onnx` analyzes the imported spec directly. See docs/onnx.md.
      """
  )

  @Argument(help: "The ONNX model.")
  var model: String

  @Option(name: .shortAndLong, help: ArgumentHelp("The spec to write (default: standard output).", valueName: "path"))
  var output: String?

  @Option(
    name: .customLong("weights-out"),
    help: ArgumentHelp("A directory for the weights, LAYER.KIND.npy as `netc run --weights DIR` reads them.", valueName: "dir"))
  var weightsOut: String?

  @Flag(
    help:
      "Write the layers netc imports and list each node it cannot (warnings NS603, and in the spec's header), instead of an error."
  )
  var partial = false

  func run() throws {
    let spec: ImportedSpec
    do { spec = try ONNXImport.read(model, partial: partial) } catch {
      SpecInputs().report(error.diagnostics)
      throw ExitCode(error.diagnostics.contains { $0.code == .io } ? 2 : 1)
    }
    SpecInputs().report(SpecInputs.assumedWarnings(model, spec.assumed) + SpecInputs.partialWarnings(model, spec.unimported))
    if let dir = weightsOut {
      do {
        try FileSystem.makeDirectory(dir)
        for (name, tensor) in spec.weights {
          try FileSystem.write(NpyFile.encode(tensor), to: dir.hasSuffix("/") ? dir + name + ".npy" : dir + "/" + name + ".npy")
        }
      } catch {
        Output.error.write("netc: error: \(error.message)\n")
        throw ExitCode(2)
      }
    }
    guard let path = output else {
      Output.standard.write(spec.text)
      return
    }
    do { try FileSystem.write(Array(spec.text.utf8), to: path) } catch {
      Output.error.write("netc: error: \(error.message)\n")
      throw ExitCode(2)
    }
    var summary = "wrote \(path): \(counted(spec.layerCount, "layer")) from ONNX opset \(spec.opset)"
    if let dir = weightsOut { summary += "; \(counted(spec.weights.count, "weight file")) in \(dir)" }
    if !spec.unimported.isEmpty { summary += "; \(counted(spec.unimported.count, "node")) not imported (--partial)" }
    Output.standard.write(summary + "\n")
  }
}
