#if canImport(Glibc)
  import Glibc
#endif

/// A file that could not be read or written, with the system's reason.
public struct FileError: Error, Sendable, CustomStringConvertible {
  /// What went wrong, naming the path: lowercase, no trailing period.
  public var message: String
  public var description: String { message }
}

/// Whole-file reads and writes through POSIX calls, so each failure names its real cause.
enum FileIO {
  /// The bytes of the regular file at `path`; files over `maxBytes` are refused, and so are
  /// FIFOs, devices and sockets (a path in a spec's `weights:` may name anything: opening a
  /// FIFO would wait for a writer forever, a device has no size to check).
  static func read(_ path: String, maxBytes: Int = 1 << 32) throws(FileError) -> [UInt8] {
    // O_NONBLOCK: opening a FIFO returns at once instead of waiting; regular files ignore it.
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else { throw FileError(message: "cannot read `\(path)`: \(reason(errno))") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw FileError(message: "cannot read `\(path)`: \(reason(errno))") }
    if (info.st_mode & S_IFMT) == S_IFDIR { throw FileError(message: "`\(path)` is a directory") }
    if (info.st_mode & S_IFMT) != S_IFREG {
      throw FileError(message: "`\(path)` is not a regular file (a FIFO, a device or a socket); netc reads tensors from files")
    }
    if Int(info.st_size) > maxBytes { throw FileError(message: "`\(path)` is larger than \(maxBytes) bytes") }
    var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { throw FileError(message: "cannot read `\(path)`: \(reason(errno))") }
      if n == 0 { break }
      offset += n
    }
    return Array(bytes[0..<offset])
  }

  /// Writes `bytes` to `path`, replacing it.
  static func write(_ bytes: [UInt8], to path: String) throws(FileError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw FileError(message: "cannot write `\(path)`: \(reason(errno))") }
    defer { close(fd) }
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { throw FileError(message: "cannot write `\(path)`: \(reason(errno))") }
      offset += n
    }
  }

  /// Creates directory `path` (and its parents) unless it exists.
  static func makeDirectory(_ path: String) throws(FileError) {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for part in path.split(separator: "/") {
      prefix += part
      if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
        throw FileError(message: "cannot create directory `\(prefix)`: \(reason(errno))")
      }
      prefix += "/"
    }
  }

  /// Whether `path` is a directory.
  static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }

  /// Whether `path` exists.
  static func exists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0
  }

  /// The names in directory `path`, sorted.
  static func list(_ path: String) throws(FileError) -> [String] {
    guard let dir = opendir(path) else { throw FileError(message: "cannot read directory `\(path)`: \(reason(errno))") }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }

  /// `path` resolved against the directory of `base` unless it is absolute.
  static func resolve(_ path: String, relativeTo base: String) -> String {
    if path.hasPrefix("/") { return path }
    guard let slash = base.lastIndex(of: "/") else { return path }
    return String(base[...slash]) + path
  }

  /// The system's words for an errno, lowercased to fit a diagnostic.
  static func reason(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    let message = String(cString: text)
    guard let first = message.first else { return message }
    return first.lowercased() + message.dropFirst()
  }
}

/// File-system helpers other modules need.
public enum FileSystem {
  /// Creates directory `path` (and its parents) unless it exists.
  public static func makeDirectory(_ path: String) throws(FileError) { try FileIO.makeDirectory(path) }
  /// Whether anything exists at `path`.
  public static func exists(_ path: String) -> Bool { FileIO.exists(path) }
  /// The bytes of the regular file at `path` (see `FileIO.read` for what is refused).
  public static func read(_ path: String) throws(FileError) -> [UInt8] { try FileIO.read(path) }

  /// The bytes of the regular file at `path`, refusing files over `maxBytes` and anything
  /// that is not a regular file.
  public static func read(_ path: String, maxBytes: Int) throws(FileError) -> [UInt8] { try FileIO.read(path, maxBytes: maxBytes) }

  /// Writes `bytes` to `path`, replacing it.
  public static func write(_ bytes: [UInt8], to path: String) throws(FileError) { try FileIO.write(bytes, to: path) }
}
