import ArgumentParser
import NetcBackends
import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses

#if canImport(Glibc)
  import Glibc
#endif

/// Output formats of `run`.
enum RunFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json
}

/// Precisions `run` computes in.
enum Precision: String, ExpressibleByArgument, CaseIterable {
  case f32, f64
}

extension Loss: ExpressibleByArgument {}

/// `netc run`: the forward pass on real weights, the loss, gradients and every activation.
struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Execute a spec on an input: the output, a loss, gradients and every activation.",
    discussion: """
      Tensors are in the spec's own order (HxWxC); a single-channel image may be an HxW \
      matrix, and a single number fills the whole input. A tensor argument is a .npy file, a JSON/YAML file, or an inline literal such as \
      "[[1, -1]]". Weights follow PyTorch's layouts (conv [Cout][Cin/groups][kh][kw], FC \
      [out][in]). Run is inference: BN uses its running mean and variance, and gradients flow \
      through its affine transform with those statistics fixed.
      """
  )

  @Argument(help: "The spec file (YAML).")
  var spec: String

  @Option(
    help: ArgumentHelp(
      "The input tensor: a .npy, JSON or YAML file, or an inline literal. A spec with several `inputs:` takes one NAME=TENSOR each.",
      valueName: "tensor"))
  var input: [String] = []

  @OptionGroup var weightOptions: WeightOptions
  var weights: [String] { weightOptions.weights }
  var seed: UInt64 { weightOptions.seed }

  @Option(help: "Arithmetic: f32 (default) or f64.")
  var precision: Precision = .f32

  @Option(
    help: ArgumentHelp(
      "The target: a tensor of the output's shape, or a class index for cross-entropy (one per row of an LxV output).", valueName: "tensor")
  )
  var target: String?

  @Option(help: "The loss: \(Loss.allCases.map(\.rawValue).joined(separator: ", ")).")
  var loss: Loss?

  @Flag(help: "Print the gradient of the loss with respect to every parameter and the input.")
  var grad = false

  @Flag(help: "With --grad: write the chain rule out, step by step with the numbers (small networks of fc, conv, pool, relu).")
  var explain = false

  @Flag(help: "Print every layer's output, named as in `analyze`.")
  var trace = false

  @Option(help: "Output format: text or json.")
  var format: RunFormat = .text

  @Option(help: ArgumentHelp("Also write the results as .npy files into this directory.", valueName: "dir"))
  var save: String?

  @OptionGroup var bindingOptions: BindingOptions
  var bindings: [String] { bindingOptions.bindings }

  @Option(
    parsing: .unconditional, help: "Worker threads for the kernels (default: the online cores).",
    transform: { try IntegerOption.parse($0, in: 1...Int.max) })
  var threads: Int?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp("Time the output pass this many times; print the median and best on standard error.", valueName: "n"),
    transform: { try IntegerOption.parse($0, in: 0...Int.max) })
  var repeatCount: Int = 0

  @Flag(help: "Time each step of the output pass too (over --repeat-count passes, 10 by default); print a table on standard error.")
  var profile = false

  @Flag(
    help:
      "Report the workspace: the activation buffers the output pass allocated, beside the arena the offset planner lays out for the same buffers and `analyze --memory`'s figure."
  )
  var memory = false

  /// Passes timed: --repeat-count, or 10 for --profile alone.
  var timedPasses: Int { repeatCount > 0 ? repeatCount : profile ? 10 : 0 }

  func validate() throws {
    if input.isEmpty { throw ValidationError("Missing expected argument '--input <tensor>'") }
    if (target == nil) != (loss == nil) { throw ValidationError("--target and --loss go together") }
    if grad && loss == nil {
      throw ValidationError("--grad needs a loss: add --target T --loss \(Loss.allCases.map(\.rawValue).joined(separator: "|"))")
    }
    if memory && (grad || trace) {
      throw ValidationError(
        "--memory measures the output pass, which --\(grad ? "grad" : "trace") does not run (it keeps every activation)")
    }
  }

  func run() throws {
    if explain && !grad { throw ValidationError("--explain writes out the backward pass: add --grad") }
    if explain && format != .text { throw ValidationError("--explain prints text: drop --format \(format.rawValue)") }
    switch precision {
    case .f32: try execute(Float.self)
    case .f64: try execute(Double.self)
    }
  }

  func execute<T: TensorScalar>(_: T.Type) throws {
    let given = try VarBindings(bindings)
    let values = given.values
    var inputs = SpecInputs()
    let spec: Spec
    do { spec = try inputs.load(self.spec, bindings: values) } catch { throw ExitCode(error == .io ? 2 : 1) }
    try given.check(against: [(self.spec, spec)])
    let analysis: Analysis
    do { analysis = try analyze(spec.graph, bindings: values) } catch {
      inputs.report(error.diagnostics)
      throw ExitCode(1)
    }
    let graph = analysis.graph, shapes = analysis.shapes
    let refused = unexecutableLayers(graph, by: .run)
    if !refused.isEmpty {
      inputs.report(refused)
      throw ExitCode(1)
    }
    try MemoryCheck.require(
      graph, shapes, elementSize: MemoryLayout<T>.size, gradients: grad, unfused: trace, inputs: inputs)

    // Weights: the spec's own, then each --weights source.
    let sources = try weightSources(of: spec, at: self.spec, extra: weights, inputs: &inputs)
    var parameters: [LayerParameters<T>?]
    do { parameters = try WeightBinding.bind(graph, shapes, sources: sources, seed: seed) } catch {
      inputs.report(error.diagnostics)
      throw ExitCode(error.diagnostics.contains { $0.code == .weightFile } ? 2 : 1)
    }

    // The inputs, each in its shape in the spec.
    let fed: RunInputs<T>
    do {
      switch try RunInputs<T>.read(input, graph: graph, shapes: shapes, sources: &inputs.sources) {
      case .success(let read): fed = read
      case .failure(let failure):
        fail(failure.message)
        throw ExitCode(2)
      }
    } catch let error as DiagnosticError {
      inputs.report(error.diagnostics)
      throw ExitCode(2)
    }
    let x = fed.first, others = fed.others
    if graph.allInputs.count > 1 && (timedPasses > 0 || memory) {
      fail(
        "--\(memory ? "memory" : timedPasses == repeatCount ? "repeat-count" : "profile") measures the fused output pass, which does not run a spec with several inputs yet (it runs the unfused one)"
      )
      throw ExitCode(2)
    }

    // Token ids index every EMBED that reads them: each must be a row of its table.
    for node in graph.layers where node.op == .embed && graph.nodes[node.inputs[0]].op == .input && graph.isTokenInput(node.inputs[0]) {
      let vocab = shapes.nodes[node.id].inChannels
      let ids = fed.tensors[node.inputs[0]]!
      if let (position, id) = Embedding.firstInvalid(ids.data, vocab: vocab) {
        let which = graph.namedInputs.isEmpty ? "" : " \(graph.nodes[node.inputs[0]].name)"
        fail(
          "--input\(which): token id \(id.rounded(.towardZero) == id ? String(Int(id)) : "\(id)") at position \(position) is outside the vocabulary of `\(node.name)` (ids 0..<\(vocab))"
        )
        throw ExitCode(2)
      }
    }

    var lossTarget: Tensor<T>?
    if let target {
      do { lossTarget = try TensorArgument.read(target, what: "--target", sources: &inputs.sources) } catch {
        inputs.report(error.diagnostics)
        throw ExitCode(2)
      }
    }

    // Without gradients the interpreter holds the linear layers' weights packed for its GEMM
    // in place of their `[out][in]` copies; it is handed the only reference, so that each
    // copy is freed as it is packed.
    var handed: [LayerParameters<T>?] = []
    if grad { handed = parameters } else { swap(&handed, &parameters) }
    let interpreter = Interpreter(
      graph: graph, shapes: shapes, parameters: consume handed, threads: threads ?? onlineCores(), forwardOnly: !grad)
    if timedPasses > 0 { timeForward(interpreter, x, costs: analysis.costs) }
    // Every activation only when something reads them; the output alone runs the fused pass.
    let activations = grad || trace || !others.isEmpty ? interpreter.forward(x, others: others) : []
    var usage: WorkspaceUsage?
    let y: Tensor<T>
    if memory && others.isEmpty {
      (y, usage) = interpreter.outputMeasuringWorkspace(x)
    } else {
      y = activations.isEmpty ? interpreter.output(x) : activations[graph.outputID]
    }
    var result = RunResult(output: y)
    if let usage {
      let bytes = MemoryLayout<T>.size
      // Step s + 1 runs the interpreter's step s.
      let heapNode = usage.heapStep > 0 ? interpreter.steps[usage.heapStep - 1].node : nil
      result.workspace = WorkspaceReport(
        usage, elementBytes: bytes, planned: interpreter.outputMemory,
        analyzed: bytes == 4 ? planActivationMemory(graph, shapes, batch: 1, storage: .fp32) : nil,
        heapLayer: heapNode.map { interpreter.graph.nodes[$0].name })
    }
    var derivation: [String] = []
    if let loss, let lossTarget {
      switch loss.evaluate(y, target: lossTarget) {
      case .failure(let e):
        fail("--target: \(e.message)")
        throw ExitCode(2)
      case .success(let (value, dy)):
        result.loss = (loss.rawValue, value)
        if grad {
          let g = interpreter.backward(activations, outputGradient: dy)
          for node in graph.layers {
            guard let lg = g.layers[node.id] else { continue }
            for kind in ParameterKind.allCases where kind.isLearnable {
              if let t = lg[kind] { result.gradients.append(("\(node.name).\(kind.rawValue)", t)) }
            }
          }
          // Token ids are indices, not numbers to differentiate.
          if graph.namedInputs.isEmpty {
            if !graph.tokenInput { result.gradients.append(("input", g.input)) }
          } else {
            for named in graph.namedInputs where !named.tokens {
              let d = named.node == 0 ? g.input : g.others[named.node] ?? Tensor(shape: shapes[named.node])
              result.gradients.append(("input.\(named.name)", d))
            }
          }
          if explain {
            let text = lossText(loss, y, lossTarget, value: Double(value), dy: dy, outputName: graph.nodes[graph.outputID].name)
            switch ChainRule.derive(graph, shapes, parameters: parameters, values: activations, lossText: text, outputGradient: dy) {
            case .success(let derived): derivation = derived.lines
            case .failure(let refusal):
              fail(refusal.message)
              throw ExitCode(2)
            }
          }
        }
      }
    }
    if trace {
      result.trace = graph.layers.map { ($0.name, activations[$0.id]) }
    }
    if let save {
      do { try result.save(to: save) } catch {
        fail(error.message)
        throw ExitCode(2)
      }
    }
    if format == .json { result.writeJSON { Output.standard.write($0) } } else { Output.standard.write(result.text()) }
    if !derivation.isEmpty { Output.standard.write("\n" + derivation.joined(separator: "\n") + "\n") }
  }

  /// The loss and dL/d(output) in words and numbers, for `--explain`.
  func lossText<T: TensorScalar>(_ loss: Loss, _ y: Tensor<T>, _ t: Tensor<T>, value: Double, dy: Tensor<T>, outputName: String) -> String {
    let ys = y.data.map(Double.init), ts = t.data.map(Double.init), g = dy.data.map(Double.init)
    func p(_ v: Double) -> String { v < 0 ? "(\(ChainRule.s(v)))" : ChainRule.s(v) }
    func d(_ i: Int) -> String { ys.count == ts.count ? "\(ChainRule.s(ys[i])) - \(p(ts[i]))" : "" }
    let n = ys.count
    let y1 = outputName
    switch loss {
    case .sse, .halfSSE, .mse:
      let squares = (0..<n).map { "(\(d($0)))^2" }.joined(separator: " + ")
      let lead = loss == .sse ? "" : loss == .halfSSE ? "1/2 * " : "1/\(n) * "
      let factor = loss == .sse ? "2" : loss == .halfSSE ? "" : "2/\(n) * "
      return "loss = \(lead)sum_i (\(y1)_i - t_i)^2 = \(lead)\(n > 1 ? "(" : "")\(squares)\(n > 1 ? ")" : "") = \(ChainRule.s(value))\n"
        + "dL/d\(y1)_i = \(factor)(\(y1)_i - t_i): "
        + (0..<n).map { "dL/d\(y1)_\($0 + 1) = \(factor)(\(d($0))) = \(ChainRule.s(g[$0]))" }.joined(separator: ", ")
    case .crossEntropy:
      return "loss = -log softmax(\(y1))_t = \(ChainRule.s(value))\n"
        + "dL/d\(y1)_i = softmax(\(y1))_i - [i = t]: "
        + (0..<n).map { "dL/d\(y1)_\($0 + 1) = \(ChainRule.s(g[$0]))" }.joined(separator: ", ")
    }
  }

  func fail(_ message: String) {
    Output.error.write("netc: error: \(message)\n")
  }

  func shapeName(_ shape: [Int]) -> String { shape.isEmpty ? "a scalar" : formatShape(shape) }

  func timeForward<T: TensorScalar>(_ interpreter: Interpreter<T>, _ x: Tensor<T>, costs: Costs) {
    let steps = interpreter.steps
    var times: [Double] = []
    var stepTimes = Array(repeating: [Double](), count: steps.count)
    var seconds = [Double](repeating: 0, count: steps.count)
    for _ in 0..<timedPasses {
      let start = monotonicSeconds()
      if profile {
        for s in seconds.indices { seconds[s] = 0 }
        _ = seconds.withUnsafeMutableBufferPointer { interpreter.output(x, stepSeconds: $0.baseAddress) }
        for s in seconds.indices { stepTimes[s].append(seconds[s]) }
      } else {
        _ = interpreter.output(x)
      }
      times.append(monotonicSeconds() - start)
    }
    func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
    if profile {
      let graph = interpreter.graph
      let rows = zip(steps, stepTimes).map { step, times in
        StepProfile.Row(
          name: graph.nodes[step.node].name, fused: step.fused.map { graph.nodes[$0].name }, seconds: median(times),
          best: times.min()!, macs: costs.nodes[step.node].macs)
      }
      Output.error.write(StepProfile(rows: rows).table())
    }
    Output.error.write(
      "forward: median \(format3(median(times) * 1000)) ms, best \(format3(times.min()! * 1000)) ms over \(counted(timedPasses, "run")), \(counted(interpreter.threads, "thread"))\n"
    )
  }

}

/// A number with three decimals.
func format3(_ v: Double) -> String {
  let scaled = (v * 1000).rounded()
  let whole = Int(scaled / 1000), frac = Int(abs(scaled).truncatingRemainder(dividingBy: 1000))
  let f = String(frac)
  return "\(whole).\(String(repeating: "0", count: 3 - f.count))\(f)"
}

/// A number with one decimal.
func format1(_ v: Double) -> String {
  let tenths = Int((v * 10).rounded())
  return "\(tenths / 10).\(abs(tenths % 10))"
}

/// The online processor count.
func onlineCores() -> Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

/// Whether `path` is a directory.
func isDirectory(_ path: String) -> Bool {
  var info = stat()
  return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}
