import ArgumentParser
import NetcDiagnostics

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The `netc` root command: a declarative neural-network-spec compiler.
public struct Netc: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "netc",
    abstract: "Shapes, costs, solutions and kernels from declarative network specs.",
    version: "0.1.0",
    subcommands: [
      Analyze.self, Solve.self, Run.self, Emit.self, Export.self, Import.self, Bench.self, Check.self, GraphCommand.self, Schema.self,
    ]
  )

  public init() {}

  /// Runs netc with `arguments` and returns its exit code: 0 success, 1 a spec is wrong
  /// or a constraint fails, 2 usage or I/O error. Never calls `exit`, so tests can run it.
  public static func run(_ arguments: [String]) -> Int32 {
    // ArgumentParser would call `netc analyz` an unexpected argument; say what it is.
    if let word = arguments.first, !word.hasPrefix("-"), word != "help" {
      let names = configuration.subcommands.map { $0._commandName }
      if !names.contains(word) {
        var message = "netc: error: unknown command `\(word)`"
        if let match = closestMatch(to: word, in: names) { message += "\nnetc: note: did you mean `\(match)`?" }
        message += "\nnetc: note: the commands are " + names.map { "`\($0)`" }.joined(separator: ", ") + "\n"
        Output.error.write(message)
        return 2
      }
    }
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      return 0
    } catch let code as ExitCode {
      return code.rawValue
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        Output.standard.write(fullMessage(for: error) + "\n")
        return 0
      }
      Output.error.write(fullMessage(for: error) + "\n")
      return 2
    }
  }
}

/// Where netc writes: buffered, one write per report, so 100,000-layer output is fast.
struct Output: Sendable {
  let descriptor: Int32

  static let standard = Output(descriptor: 1)
  static let error = Output(descriptor: 2)

  /// Writes all of `text`.
  func write(_ text: String) {
    var text = text
    text.withUTF8 { buffer in
      var offset = 0
      while offset < buffer.count {
        let n = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
        if n <= 0 { return }
        offset += n
      }
    }
  }

  /// Whether this stream is a terminal that wants colour (`NO_COLOR` unset).
  var wantsColor: Bool {
    isatty(descriptor) != 0 && getenv("NO_COLOR") == nil && String(cString: getenv("TERM") ?? strdup("")) != "dumb"
  }
}
