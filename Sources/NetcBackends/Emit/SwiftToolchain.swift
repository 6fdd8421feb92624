#if canImport(Glibc)
  import Glibc
#endif

/// Finds `swiftc` and runs it (and what it builds) for `bench` and the tests.
public enum SwiftToolchain {
  /// `swiftc`: `$SWIFTC`, else the first on `PATH`, else the `bin` folder of the toolchain
  /// whose runtime this process has loaded (SwiftPM does not put `swiftc` on a test's PATH).
  public static func swiftc() -> String? {
    if let env = getenv("SWIFTC"), let path = Optional(String(cString: env)), !path.isEmpty, isExecutable(path) { return path }
    if let env = getenv("PATH") {
      for dir in String(cString: env).split(separator: ":") where isExecutable("\(dir)/swiftc") { return "\(dir)/swiftc" }
    }
    // /proc/self/maps names the loaded libswiftCore.so: PREFIX/lib/swift/linux/libswiftCore.so.
    if let maps = readStream("/proc/self/maps") {
      for line in String(decoding: maps, as: UTF8.self).split(separator: "\n") where line.hasSuffix("/libswiftCore.so") {
        guard let slash = line.firstIndex(of: "/") else { continue }
        var parts = line[slash...].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // Drop lib/swift/<os>/libswiftCore.so.
        guard parts.count > 4, parts[parts.count - 4] == "lib" else { continue }
        parts.removeLast(4)
        let candidate = parts.joined(separator: "/") + "/bin/swiftc"
        if isExecutable(candidate) { return candidate }
      }
    }
    return nil
  }

  /// Flags that let `SIMD8<Float>.addingProduct` become one FMA instruction: AVX2 and FMA
  /// when this CPU has both (per /proc/cpuinfo), else none (then each lane calls `fmaf`).
  public static func targetFlags() -> [String] {
    guard let info = readStream("/proc/cpuinfo") else { return [] }
    let text = String(decoding: info, as: UTF8.self)
    guard let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    let set = Set(flags.split(separator: " ").map(String.init))
    return set.contains("avx2") && set.contains("fma") ? ["-Xcc", "-mavx2", "-Xcc", "-mfma"] : []
  }

  /// Runs `argv` (argv[0] a path), its standard output and error into files; returns the
  /// exit status (or 128 + signal).
  public static func run(_ argv: [String], stdout: String, stderr: String) -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var cArgs = argv.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    var pid = pid_t()
    let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
    guard rc == 0 else { return 127 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    if status & 0x7f == 0 { return (status >> 8) & 0xff }
    return 128 + (status & 0x7f)
  }

  /// The text of a file (empty if unreadable).
  public static func readText(_ path: String) -> String {
    (try? FileIO.read(path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
  }

  /// Reads a whole file.
  public static func readBytes(_ path: String) throws(FileError) -> [UInt8] { try FileIO.read(path) }

  /// Writes a whole file.
  public static func write(_ bytes: [UInt8], to path: String) throws(FileError) { try FileIO.write(bytes, to: path) }

  /// Creates a directory and its parents.
  public static func makeDirectory(_ path: String) throws(FileError) { try FileIO.makeDirectory(path) }

  /// A file read to its end in chunks: /proc files report a size of 0.
  static func readStream(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while out.count < 1 << 26 {
      let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      out += chunk[0..<n]
    }
    return out
  }

  static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }
}
