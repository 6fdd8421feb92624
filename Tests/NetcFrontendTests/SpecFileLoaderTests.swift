import Foundation
import NetcDiagnostics
import Testing

@testable import NetcFrontend

/// A fresh directory for one test's files, removed when the test ends.
private final class TemporaryDirectory {
  let path: String

  init() throws {
    path = NSTemporaryDirectory() + "netc-loader-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// Writes `bytes` to `name` in the directory and returns the file's path.
  func file(_ name: String, _ bytes: [UInt8]) throws -> String {
    let file = path + "/" + name
    guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else {
      throw CocoaError(.fileWriteUnknown)
    }
    return file
  }
}

/// The one diagnostic loading `path` throws.
private func loadError(
  _ path: String, maxBytes: Int = 16 << 20, sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws -> Diagnostic {
  do {
    _ = try SpecFileLoader.load(path: path, maxBytes: maxBytes)
  } catch {
    #expect(error.diagnostics.count == 1, sourceLocation: sourceLocation)
    return try #require(error.diagnostics.first, sourceLocation: sourceLocation)
  }
  Issue.record("expected an error", sourceLocation: sourceLocation)
  throw CancellationError()
}

@Suite("SpecFileLoader")
struct SpecFileLoaderTests {
  @Test("a UTF-8 file loads with its path and text")
  func loads() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.file("net.yaml", Array("name: é\r\nlayers: []\n".utf8))
    let source = try SpecFileLoader.load(path: path)
    #expect(source.path == path)
    #expect(source.text == "name: é\r\nlayers: []\n")
    #expect(source.line(2) == "layers: []")
  }

  @Test("a byte-order mark is dropped, so columns start after it")
  func byteOrderMark() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.file("bom.yaml", [0xEF, 0xBB, 0xBF] + Array("a: 1\n".utf8))
    let source = try SpecFileLoader.load(path: path)
    #expect(source.text == "a: 1\n")
    let root = try YAMLReader.read(source)
    #expect(root?.mapping?.first?.key.range.start == SourceLocation(line: 1, column: 1))
  }

  @Test("an empty file loads as empty text")
  func emptyFile() throws {
    let dir = try TemporaryDirectory()
    #expect(try SpecFileLoader.load(path: try dir.file("empty.yaml", [])).text == "")
  }

  @Test("a missing file is an I/O error that names the cause")
  func missing() throws {
    let dir = try TemporaryDirectory()
    let path = dir.path + "/nope.yaml"
    let d = try loadError(path)
    #expect(d.code == .io)
    #expect(d.message == "cannot read `\(path)`: no such file or directory")
    #expect(d.range == nil)
  }

  @Test("a directory is an I/O error")
  func directory() throws {
    let dir = try TemporaryDirectory()
    let d = try loadError(dir.path)
    #expect(d.code == .io)
    #expect(d.message == "`\(dir.path)` is a directory")
  }

  @Test("an unreadable file is an I/O error", .disabled(if: getuid() == 0, "root reads any file"))
  func unreadable() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.file("locked.yaml", Array("a: 1\n".utf8))
    try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: path)
    let d = try loadError(path)
    #expect(d.code == .io)
    #expect(d.message == "cannot read `\(path)`: permission denied")
  }

  @Test("a file over the size limit is refused")
  func tooLarge() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.file("big.yaml", Array(repeating: UInt8(ascii: "a"), count: 101))
    let d = try loadError(path, maxBytes: 100)
    #expect(d.code == .sizeLimit)
    #expect(d.message == "`\(path)` is 101 bytes; netc reads spec files of up to 100 bytes")
    #expect(try SpecFileLoader.load(path: path, maxBytes: 101).text.count == 101)
  }

  @Test(
    "a stream with no size stops at the limit too",
    .enabled(if: FileManager.default.fileExists(atPath: "/dev/zero")))
  func endlessStream() throws {
    let d = try loadError("/dev/zero", maxBytes: 1000)
    #expect(d.code == .sizeLimit)
    #expect(d.message == "`/dev/zero` is more than 1000 bytes; netc reads spec files of up to 1000 bytes")
  }

  @Test(
    "invalid UTF-8 is reported at the first bad byte",
    arguments: [
      (Array("a: 1\nb: ".utf8) + [0xFF] + Array("\n".utf8), 2, 4, "invalid UTF-8 byte 0xFF"),
      (Array("é: ü".utf8) + [0xC3], 1, 5, "invalid UTF-8 byte 0xC3"),
      (Array("x\n\ny: ".utf8) + [0xED, 0xA0, 0x80], 3, 4, "invalid UTF-8 byte 0xED"),
      ([0xC0, 0x80], 1, 1, "invalid UTF-8 byte 0xC0"),
    ])
  func invalidUTF8(bytes: [UInt8], line: Int, column: Int, message: String) throws {
    let dir = try TemporaryDirectory()
    let path = try dir.file("bad.yaml", bytes)
    let d = try loadError(path)
    #expect(d.code == .encoding)
    #expect(d.message == message)
    #expect(d.range?.file == path)
    #expect(d.range?.start == SourceLocation(line: line, column: column))
  }

  @Test("a UTF-16 file gets a hint")
  func utf16() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.file("wide.yaml", [0xFF, 0xFE, 0x61, 0x00])
    let d = try loadError(path)
    #expect(d.code == .encoding)
    #expect(d.notes.map(\.message) == ["the file looks like UTF-16; save it as UTF-8"])
  }
}
