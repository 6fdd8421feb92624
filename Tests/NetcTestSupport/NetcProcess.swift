import Foundation

/// Runs the built `netc` executable as a user would, capturing its output and exit code.
public struct NetcProcess {
  /// What a run printed and returned.
  public struct Result {
    public var status: Int32
    public var stdout: String
    public var stderr: String
  }

  /// The `netc` binary next to the test runner (SwiftPM builds both into one folder).
  public static var executable: URL {
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var folder = runner.deletingLastPathComponent()
    while folder.path != "/" {
      let candidate = folder.appendingPathComponent("netc")
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
        return candidate
      }
      folder.deleteLastPathComponent()
    }
    return URL(fileURLWithPath: repositoryPath(".build/debug/netc"))
  }

  /// netc with `arguments`, in the repository root, colour off, `extra` in its environment.
  static func configured(_ arguments: [String], environment extra: [String: String]) -> Process {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: repositoryPath("."))
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    for (k, v) in extra { environment[k] = v }
    process.environment = environment
    return process
  }

  /// Runs `netc arguments...` in the repository root with colour off.
  public static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Result {
    let process = configured(arguments, environment: extra)
    // Files, not pipes: a large output cannot fill a pipe and stall the child.
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let outURL = dir.appendingPathComponent("out"), errURL = dir.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    let outData = try Data(contentsOf: outURL), errData = try Data(contentsOf: errURL)
    return Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
  }
}

extension NetcProcess {
  /// Runs `netc arguments...` with standard error on a pseudo-terminal (as in an
  /// interactive shell) and returns what it wrote there; standard output goes to a file.
  public static func runOnTerminal(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Result {
    // posix_openpt and ptsname are hidden from Swift behind _XOPEN_SOURCE: the same by hand
    // on Linux, unlocking the new terminal (TIOCSPTLCK) and asking its number (TIOCGPTN).
    let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
    var unlock: CInt = 0, number: CInt = 0
    guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
      throw CocoaError(.fileNoSuchFile)
    }
    defer { close(master) }
    let terminal = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/pts/\(number)"))
    let process = configured(arguments, environment: ["TERM": "xterm"].merging(extra) { $1 })
    let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("netc-tty-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outURL) }
    let out = try FileHandle(forWritingTo: outURL)
    process.standardOutput = out
    process.standardError = terminal
    try process.run()
    // Drain the terminal while the child runs: its buffer holds only a few kilobytes.
    var bytes: [UInt8] = []
    _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    var chunk = [UInt8](repeating: 0, count: 4096)
    func drain() {
      while true {
        let n = chunk.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
        if n <= 0 { return }
        bytes += chunk[0..<n]
      }
    }
    while process.isRunning {
      drain()
      usleep(10_000)
    }
    drain()
    try terminal.close()
    try out.close()
    return Result(
      status: process.terminationStatus, stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
      stderr: String(decoding: bytes, as: UTF8.self))
  }
}
