import ArgumentParser
import NetcBackends
import NetcDiagnostics

#if canImport(Glibc)
  import Glibc
#endif

/// Output formats of `bench`.
enum BenchFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json
}

/// The vector width `bench` emits for: the widest the CPU runs in one register, or forced.
enum BenchVectorWidth: String, ExpressibleByArgument, CaseIterable {
  case auto
  case w8 = "8"
  case w16 = "16"
}

/// `netc bench`: emit, compile, run and time a spec's kernels next to the interpreter.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time the emitted kernels of a spec, layer by layer, against the interpreter and this core's peak.",
    discussion: """
      Emits the spec (weights from the spec, --weights or the seeded initialisation), compiles \
      it with swiftc -Ounchecked, runs it on one core on a random input, and reports each \
      step's median time and \
      GFLOP/s (2 FLOPs per multiply-accumulate), the whole network's, the interpreter's time \
      on the same input (one thread), and the largest error relative to the interpreter's \
      output scale. The peak is measured at bench time by a compiled loop of 12 independent \
      FMA chains of the kernels' vector width (the best of 5 runs of 20M iterations). swiftc \
      is $SWIFTC, else on PATH.

      Vector width (--vector-width auto): 16 (SIMD16<Float>, compiled with -Xcc -mavx512f \
      -Xcc -mavx512vl -Xcc -mavx512bw -Xcc -mavx512dq -Xcc -mavx2 -Xcc -mfma) when \
      /proc/cpuinfo lists avx512f, avx512vl, avx512bw, avx512dq, avx2 and fma; else 8 \
      (SIMD8<Float>, with -Xcc -mavx2 -Xcc -mfma when it lists avx2 and fma). 8 or 16 forces \
      the width, for A/B comparisons; width 8 always compiles with the AVX2 flags.
      """
  )

  @Argument(help: "The spec file (YAML).")
  var spec: String

  @Option(help: "Output format: text or json.")
  var format: BenchFormat = .text

  @OptionGroup var weightOptions: WeightOptions
  var weights: [String] { weightOptions.weights }
  var seed: UInt64 { weightOptions.seed }

  @OptionGroup var bindingOptions: BindingOptions
  var bindings: [String] { bindingOptions.bindings }

  @Option(help: ArgumentHelp("Lanes of the kernels' vectors: auto (16 with AVX-512, else 8), 8 or 16.", valueName: "auto|8|16"))
  var vectorWidth: BenchVectorWidth = .auto

  @Option(parsing: .unconditional, help: "Seconds of timed runs (about; at least 5 runs).")
  var seconds: Double = 1

  @Option(help: ArgumentHelp("Keep the generated files in this directory.", valueName: "dir"))
  var keep: String?

  func validate() throws {
    if !(seconds > 0) { throw ValidationError("--seconds \(seconds) is out of range: it must be positive") }
  }

  func run() throws {
    let progress = Progress(humanFormat: format == .text)
    // Every exit leaves the terminal's line clean, and an error starts a line of its own.
    defer { progress.done() }
    func fail(_ message: String) {
      progress.done()
      self.fail(message)
    }
    // Found before the long work; a $SWIFTC that names nothing runnable is an error
    // (SwiftToolchain.swiftc), not routed around with another swiftc than the one asked for.
    let found: String?
    do { found = try SwiftToolchain.swiftc() } catch {
      fail(error.message)
      throw ExitCode(2)
    }
    guard let swiftc = found else {
      fail("cannot find swiftc: set $SWIFTC or put it on PATH")
      throw ExitCode(2)
    }
    let bound = try BoundSpec(path: spec, bindings: bindings, weights: weights, seed: seed, backends: [.emit, .run])
    let graph = bound.graph, shapes = bound.shapes

    let lanes: Int
    switch vectorWidth {
    case .auto: lanes = SwiftToolchain.preferredVectorWidth()
    case .w8: lanes = 8
    case .w16: lanes = 16
    }
    let isa = SwiftToolchain.isa(vectorWidth: lanes)
    let net = SwiftEmitter.emit(
      graph: graph, shapes: shapes, parameters: bound.parameters, options: .init(typeName: "BenchNet", vectorWidth: lanes))
    let dir: String
    if let keep {
      dir = keep
    } else {
      var template = Array("/tmp/netc-bench-XXXXXX".utf8CString)
      guard let made = mkdtemp(&template) else {
        fail("cannot create a temporary directory")
        throw ExitCode(2)
      }
      dir = String(cString: made)
    }
    defer { if keep == nil { _ = SwiftToolchain.run(["/bin/rm", "-rf", dir], stdout: "/dev/null", stderr: "/dev/null") } }
    var rng = SplitMix64(seed: seed ^ 0x5EED)
    let input = (0..<shapes[0].reduce(1, *)).map { _ in Float(rng.uniform(-1, 1)) }
    do {
      try SwiftToolchain.makeDirectory(dir)
      try net.write(source: "\(dir)/Net.swift", weights: "\(dir)/net.weights")
      try SwiftToolchain.write(Array(BenchDriver.source(type: net.typeName, lanes: lanes).utf8), to: "\(dir)/main.swift")
      try SwiftToolchain.write(input.withUnsafeBytes { Array($0) }, to: "\(dir)/input.bin")
    } catch {
      fail(error.message)
      throw ExitCode(2)
    }
    let flags = ["-Ounchecked"] + SwiftToolchain.flags(for: isa)
    let compile = [swiftc] + flags + ["\(dir)/Net.swift", "\(dir)/main.swift", "-o", "\(dir)/bench"]
    progress.stage("bench: compiling \(counted(net.steps.count, "step")) with swiftc \(flags[0]) (a large network takes minutes)")
    if SwiftToolchain.run(compile, stdout: "\(dir)/cc.out", stderr: "\(dir)/cc.err") != 0 {
      fail("swiftc failed:\n" + SwiftToolchain.readText("\(dir)/cc.err"))
      throw ExitCode(2)
    }
    progress.stage("bench: timing the compiled kernels and measuring the peak")
    if SwiftToolchain.run(["\(dir)/bench", dir, String(seconds)], stdout: "\(dir)/run.out", stderr: "\(dir)/run.err") != 0 {
      fail("the compiled network failed:\n" + SwiftToolchain.readText("\(dir)/run.err"))
      throw ExitCode(2)
    }
    var total = 0.0, peak = 0.0
    var stepSeconds = [Double](repeating: 0, count: net.steps.count)
    for line in SwiftToolchain.readText("\(dir)/run.out").split(separator: "\n") {
      let f = line.split(separator: " ")
      switch f.first {
      case "total": total = Double(f[1]) ?? 0
      case "peak": peak = Double(f[1]) ?? 0
      case "step": if let k = Int(f[1]), k < stepSeconds.count { stepSeconds[k] = Double(f[2]) ?? 0 }
      default: break
      }
    }
    let emitted: [Float]
    do { emitted = try SwiftToolchain.readBytes("\(dir)/output.bin").withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } } catch {
      fail(error.message)
      throw ExitCode(2)
    }

    // The interpreter on the same input, one thread.
    progress.stage("bench: timing the interpreter on the same input")
    // As `netc run` builds it: forward only, its linear weights packed once.
    let interpreter = Interpreter(graph: graph, shapes: shapes, parameters: bound.parameters, threads: 1, forwardOnly: true)
    let x = Tensor(shape: shapes[0], data: input)
    var reference = interpreter.output(x)
    var times: [Double] = []
    let began = monotonicSeconds()
    repeat {
      let t0 = monotonicSeconds()
      reference = interpreter.output(x)
      times.append(monotonicSeconds() - t0)
    } while times.count < 3 || (monotonicSeconds() - began < seconds && times.count < 200)
    times.sort()
    let interpreterSeconds = times[times.count / 2]
    var diff = 0.0, scale = 0.0
    for (a, b) in zip(emitted, reference.data) {
      diff = max(diff, abs(Double(a) - Double(b)))
      scale = max(scale, abs(Double(b)))
    }
    let maxError = emitted.count == reference.count ? (scale == 0 ? diff : diff / scale) : .infinity

    progress.done()
    let totalMacs = net.steps.reduce(0) { $0 + $1.macs }
    func gflops(_ macs: Int, _ s: Double) -> Double { s > 0 ? 2 * Double(macs) / s / 1e9 : 0 }
    if format == .json {
      var out = "{\"spec\": \(JSONFormat.string(graph.name)), \"layers\": ["
      out += zip(net.steps, stepSeconds).map { step, s in
        "{\"name\": \(JSONFormat.string(step.layers.joined(separator: "+"))), \"op\": \(JSONFormat.string(step.op)), \"seconds\": \(s), \"gflops\": \(gflops(step.macs, s))}"
      }.joined(separator: ", ")
      out +=
        "], \"total\": {\"seconds\": \(total), \"gflops\": \(gflops(totalMacs, total))}, \"interpreter\": {\"seconds\": \(interpreterSeconds)}, "
      out += "\"peak_gflops\": \(peak), \"peak_method\": \"measured\", \"max_rel_error\": \(maxError), "
      out += "\"vector_width\": \(lanes), \"isa\": \(JSONFormat.string(isa.rawValue)), "
      out += "\"swiftc_flags\": [\(flags.map(JSONFormat.string).joined(separator: ", "))]}\n"
      Output.standard.write(out)
    } else {
      var rows = [["step", "op", "ms", "GFLOP/s", "of peak"]]
      for (step, s) in zip(net.steps, stepSeconds) {
        let g = gflops(step.macs, s)
        rows.append([
          step.layers.joined(separator: "+"), step.op, NumberFormat.fixed(s * 1000, digits: 3),
          step.macs > 0 ? NumberFormat.fixed(g, digits: 1) : "-",
          step.macs > 0 && peak > 0 ? NumberFormat.fixed(100 * g / peak, digits: 1) + "%" : "-",
        ])
      }
      let widths = (0..<5).map { c in rows.map { $0[c].count }.max()! }
      var out =
        "\(graph.name): emitted kernels, SIMD\(lanes)<Float> (\(isa.rawValue): swiftc \(flags.joined(separator: " "))), one core\n\n"
      for (i, row) in rows.enumerated() {
        out +=
          row.enumerated().map { c, v in
            c < 2 ? v + String(repeating: " ", count: widths[c] - v.count) : String(repeating: " ", count: widths[c] - v.count) + v
          }.joined(separator: "  ") + "\n"
        if i == 0 { out += String(repeating: "-", count: widths.reduce(0, +) + 8) + "\n" }
      }
      let g = gflops(totalMacs, total)
      out +=
        "\ntotal        \(NumberFormat.fixed(total * 1000, digits: 3)) ms, \(NumberFormat.fixed(g, digits: 1)) GFLOP/s (\(NumberFormat.fixed(peak > 0 ? 100 * g / peak : 0, digits: 1))% of peak)\n"
      out +=
        "interpreter  \(NumberFormat.fixed(interpreterSeconds * 1000, digits: 3)) ms (one thread): emitted is \(NumberFormat.fixed(interpreterSeconds / max(total, 1e-12), digits: 2))x faster\n"
      out += "peak         \(NumberFormat.fixed(peak, digits: 1)) GFLOP/s FP32, measured (12 SIMD\(lanes) FMA chains)\n"
      out += "max error    \(maxError) relative to the interpreter's output scale\n"
      out += "arena        \(net.arenaElements * 4) bytes of activations (\(net.unsharedElements * 4) without reuse)\n"
      Output.standard.write(out)
    }
    if !(maxError <= 1e-4) {
      fail("the emitted kernels and the interpreter disagree: relative error \(maxError)")
      throw ExitCode(1)
    }
  }

  func fail(_ message: String) {
    Output.error.write("netc: error: \(message)\n")
  }
}
