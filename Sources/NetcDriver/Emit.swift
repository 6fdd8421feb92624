import ArgumentParser
import NetcBackends
import NetcDiagnostics

/// `netc emit`: one self-contained Swift file of kernels specialised for a spec.
struct Emit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write specialised Swift kernels for a spec whose every shape is known.",
    discussion: """
      The output is one Swift file with no import but the standard library (Foundation only \
      to read the weights file): a final class named after the spec with inputShape, \
      outputShape and forward(input, output) on contiguous Float buffers, channels last. \
      Weights follow PyTorch's layouts in the spec or --weights and are repacked into the \
      kernels' layouts; they are written beside the source (NAME.weights, read with \
      init(weightsFile:)) or, with --embed-weights, into the source (init()). \
      --vector-width 16 writes the kernels with SIMD16<Float> (one AVX-512 zmm register; \
      compile with -Xcc -mavx512f -Xcc -mavx512vl -Xcc -mavx512bw -Xcc -mavx512dq -Xcc -mfma \
      -Xcc -mavx2 on a CPU that has AVX-512) instead of SIMD8<Float> (AVX2: -Xcc -mavx2 \
      -Xcc -mfma). Either width is correct on any CPU; only the speed differs.
      """
  )

  @Argument(help: "The spec file (YAML).")
  var spec: String

  @Option(name: .shortAndLong, help: ArgumentHelp("The Swift file to write (default: TYPE.swift).", valueName: "path"))
  var output: String?

  @Flag(help: "Embed the weights in the source instead of writing a weights file (for small nets).")
  var embedWeights = false

  @Option(help: ArgumentHelp("The Swift type's name (default: from the spec's name).", valueName: "name"))
  var typeName: String?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Lanes of the kernels' vectors: 8 (SIMD8, AVX2) or 16 (SIMD16, AVX-512).", valueName: "8|16"))
  var vectorWidth = 8

  @OptionGroup var weightOptions: WeightOptions
  var weights: [String] { weightOptions.weights }
  var seed: UInt64 { weightOptions.seed }

  @OptionGroup var bindingOptions: BindingOptions
  var bindings: [String] { bindingOptions.bindings }

  func validate() throws {
    if !SwiftEmitter.Options.vectorWidths.contains(vectorWidth) {
      throw ValidationError("--vector-width must be 8 or 16, not \(vectorWidth)")
    }
  }

  func run() throws {
    let bound = try BoundSpec(path: spec, bindings: bindings, weights: weights, seed: seed)
    let net = SwiftEmitter.emit(
      graph: bound.graph, shapes: bound.shapes, parameters: bound.parameters,
      options: .init(embedWeights: embedWeights, typeName: typeName, vectorWidth: vectorWidth))
    let path = output ?? net.typeName + ".swift"
    let weightsPath = embedWeights ? nil : EmittedNetwork.weightsPath(besides: path)
    do { try net.write(source: path, weights: weightsPath) } catch {
      Output.error.write("netc: error: \(error.message)\n")
      throw ExitCode(2)
    }
    var report =
      "wrote \(path): class \(net.typeName), \(counted(net.steps.count, "step")), activation arena \(net.arenaElements * 4) bytes (\(net.unsharedElements * 4) without reuse)\n"
    if let weightsPath { report += "wrote \(weightsPath): \(net.weights.count) packed weights\n" }
    Output.standard.write(report)
  }
}
