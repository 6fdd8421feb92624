#if canImport(Glibc)
  import Glibc
#endif

/// Finds `swiftc` and runs it (and what it builds) for `bench` and the tests.
public enum SwiftToolchain {
  /// `swiftc`: `$SWIFTC`, else the first on `PATH`, else the `bin` folder of the toolchain
  /// whose runtime this process has loaded (SwiftPM does not put `swiftc` on a test's PATH);
  /// nil when there is none. A `$SWIFTC` that names no executable file is an error naming
  /// the variable, not a reason to use another swiftc than the one asked for.
  public static func swiftc() throws(FileError) -> String? {
    try swiftc(variable: getenv("SWIFTC").map { String(cString: $0) })
  }

  /// `swiftc()` with `variable` as the value of `$SWIFTC` (nil or empty: unset).
  static func swiftc(variable: String?) throws(FileError) -> String? {
    if let path = variable, !path.isEmpty {
      if let why = notExecutable(path) {
        throw FileError(message: "$SWIFTC is `\(path)`, which \(why): point it at swiftc, or unset it to use the one on PATH")
      }
      return path
    }
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

  /// The vector instruction sets `bench` compiles for, best first.
  public enum ISA: String, Sendable {
    /// AVX-512 (F, VL, BW, DQ) with AVX2 and FMA: 32 zmm registers of 16 floats.
    case avx512
    /// AVX2 and FMA: 16 ymm registers of 8 floats.
    case avx2
    /// Neither: baseline x86-64 (SSE2), each lane of `addingProduct` a call to `fmaf`.
    case baseline
  }

  /// The feature flags of /proc/cpuinfo's first `flags` line (empty if unreadable).
  public static func cpuFeatures() -> Set<String> {
    guard let info = readStream("/proc/cpuinfo") else { return [] }
    let text = String(decoding: info, as: UTF8.self)
    guard let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    return Set(flags.split(separator: " ").map(String.init))
  }

  /// The best instruction set this CPU lists for a vector width: AVX-512 only for width 16
  /// (AVX-512 flags let LLVM use zmm for SIMD16 but leave SIMD8 code on ymm, so width 8 keeps
  /// the AVX2 flags it always had), else AVX2 when the CPU has AVX2 and FMA.
  public static func isa(vectorWidth: Int, features: Set<String> = cpuFeatures()) -> ISA {
    let avx2 = features.contains("avx2") && features.contains("fma")
    let avx512 = avx2 && ["avx512f", "avx512vl", "avx512bw", "avx512dq"].allSatisfy(features.contains)
    if vectorWidth >= 16 && avx512 { return .avx512 }
    return avx2 ? .avx2 : .baseline
  }

  /// The widest vector width this CPU runs in one register: 16 with AVX-512, else 8.
  public static func preferredVectorWidth(features: Set<String> = cpuFeatures()) -> Int {
    isa(vectorWidth: 16, features: features) == .avx512 ? 16 : 8
  }

  /// swiftc flags that let `SIMDn<Float>.addingProduct` become one FMA instruction.
  public static func flags(for isa: ISA) -> [String] {
    switch isa {
    case .avx512:
      return ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx2", "-mfma"].flatMap { ["-Xcc", $0] }
    case .avx2: return ["-Xcc", "-mavx2", "-Xcc", "-mfma"]
    case .baseline: return []
    }
  }

  /// The flags for kernels of `vectorWidth` lanes on this CPU (per /proc/cpuinfo): AVX-512
  /// for width 16 when the CPU has it, else AVX2 and FMA when it has both, else none.
  public static func targetFlags(vectorWidth: Int = 8) -> [String] {
    flags(for: isa(vectorWidth: vectorWidth))
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

  static func isExecutable(_ path: String) -> Bool { notExecutable(path) == nil }

  /// Why `path` is not an executable file (`does not exist`, `is a directory`, `is not
  /// executable`), or nil when it is one.
  static func notExecutable(_ path: String) -> String? {
    var info = stat()
    guard stat(path, &info) == 0 else { return errno == ENOENT || errno == ENOTDIR ? "does not exist" : "cannot be read" }
    if (info.st_mode & S_IFMT) == S_IFDIR { return "is a directory" }
    guard (info.st_mode & S_IFMT) == S_IFREG else { return "is not a regular file" }
    return access(path, X_OK) == 0 ? nil : "is not executable"
  }
}
