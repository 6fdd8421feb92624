import NetcDiagnostics

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads a spec file from disk into a `SourceFile`, checking its size and its UTF-8.
public enum SpecFileLoader {
  /// The file at `path` as text, without a leading byte-order mark; files over `maxBytes` are refused.
  public static func load(path: String, maxBytes: Int = 16 << 20) throws(DiagnosticError) -> SourceFile {
    try source(bytes: readBytes(path: path, maxBytes: maxBytes), path: path)
  }

  /// Bytes already in memory (a fuzzer's input, standard input) as the text of `path`,
  /// without a leading byte-order mark; invalid UTF-8 is an error at its line and column.
  public static func source(bytes: [UInt8], path: String) throws(DiagnosticError) -> SourceFile {
    var bytes = bytes
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
    // The standard library validates fast; the scalar-by-scalar search that finds the bad
    // byte's line and column runs only when there is one (on 10 MB it took seconds).
    if let text = String(validating: bytes, as: UTF8.self) { return SourceFile(path: path, text: text) }
    if let bad = firstInvalidUTF8(bytes) {
      var notes: [Diagnostic.Note] = []
      if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
        notes.append(.init("the file looks like UTF-16; save it as UTF-8"))
      }
      let byte = String(bytes[bad.offset], radix: 16, uppercase: true)
      throw DiagnosticError([
        .error(
          .encoding, "invalid UTF-8 byte 0x\(byte.count < 2 ? "0" + byte : byte)",
          at: SourceRange(file: path, start: bad.location, length: 1), notes: notes)
      ])
    }
    return SourceFile(path: path, text: String(decoding: bytes, as: UTF8.self))
  }

  /// The file's bytes, read through POSIX calls so that each failure names its real cause.
  private static func readBytes(path: String, maxBytes: Int) throws(DiagnosticError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ioError("cannot read `\(path)`: \(describe(errno))", path) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw ioError("cannot read `\(path)`: \(describe(errno))", path) }
    if (info.st_mode & S_IFMT) == S_IFDIR { throw ioError("`\(path)` is a directory", path) }
    // Refuse a large regular file before reading any of it; pipes report no size, so the
    // read loop below enforces the limit for them.
    if Int(info.st_size) > maxBytes { throw tooLarge(path, Int(info.st_size), maxBytes) }

    var bytes: [UInt8] = []
    bytes.reserveCapacity(max(0, min(Int(info.st_size), maxBytes)))
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw ioError("cannot read `\(path)`: \(describe(errno))", path)
      }
      if count == 0 { break }
      bytes.append(contentsOf: chunk[0..<count])
      if bytes.count > maxBytes { throw tooLarge(path, nil, maxBytes) }
    }
    return bytes
  }

  /// The offset and location of the first byte that does not start a valid UTF-8 sequence.
  private static func firstInvalidUTF8(_ bytes: [UInt8]) -> (offset: Int, location: SourceLocation)? {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    var line = 1
    var column = 1
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded):
        offset += encoded.count
        if encoded.count == 1 && encoded.first == UInt8(ascii: "\n") {
          line += 1
          column = 1
        } else {
          column += 1
        }
      case .error:
        return (offset, SourceLocation(line: line, column: column))
      case .emptyInput:
        return nil
      }
    }
  }

  private static func tooLarge(_ path: String, _ size: Int?, _ maxBytes: Int) -> DiagnosticError {
    let actual = size.map { "\($0) bytes" } ?? "more than \(maxBytes) bytes"
    return DiagnosticError([
      .error(.sizeLimit, "`\(path)` is \(actual); netc reads spec files of up to \(maxBytes) bytes", at: nil).about(path)
    ])
  }

  private static func ioError(_ message: String, _ path: String) -> DiagnosticError {
    DiagnosticError([.error(.io, message, at: nil).about(path)])
  }

  /// The system's words for an errno, lowercased to fit a diagnostic ("no such file or directory").
  private static func describe(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    let message = String(cString: text)
    guard let first = message.first else { return message }
    return first.lowercased() + message.dropFirst()
  }
}
