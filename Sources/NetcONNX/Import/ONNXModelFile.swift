import Foundation
import NetcBackends
import NetcDiagnostics
import SwiftProtobuf

#if canImport(Glibc)
  import Glibc
#endif

/// An ONNX model read from disk, with the bytes of the external data files its
/// initializers point into. The file is untrusted: every size is bounded before it is
/// read, and external data must lie inside the model's folder.
struct ONNXModelFile {
  /// The largest model file read (protobuf itself stops at 2 GiB).
  static let maxModelBytes = 1 << 31
  /// The largest external data file read.
  static let maxDataBytes = 1 << 34
  /// How deep messages may nest (graphs inside attributes inside nodes): swift-protobuf
  /// refuses deeper input instead of recursing on.
  static let maxDepth = 64

  let path: String
  let model: Onnx_ModelProto
  /// The folder external data paths are relative to, resolved (no symlinks).
  private let folder: String
  private var data: [String: [UInt8]] = [:]

  /// Reads and decodes the model at `path`.
  init(path: String) throws(DiagnosticError) {
    let bytes: [UInt8]
    do { bytes = try FileSystem.read(path, maxBytes: Self.maxModelBytes) } catch {
      throw DiagnosticError([.error(.io, error.message, at: nil)])
    }
    try self.init(bytes: bytes, path: path)
  }

  /// Decodes `bytes` as the model at `path` (its folder holds the external data).
  init(bytes: [UInt8], path: String) throws(DiagnosticError) {
    self.path = path
    var options = BinaryDecodingOptions()
    options.messageDepthLimit = Self.maxDepth
    do {
      model = try Onnx_ModelProto(serializedBytes: bytes, options: options)
    } catch {
      throw ONNXModelFile.failure(path, "is not a readable ONNX model (\(Self.reason(error)))")
    }
    guard model.hasGraph else { throw ONNXModelFile.failure(path, "has no graph: it is not an ONNX model") }
    let dir = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "./"
    folder = ONNXModelFile.realPath(dir) ?? dir
  }

  /// Words for a protobuf decoding error.
  static func reason(_ error: Error) -> String {
    switch error as? BinaryDecodingError {
    case .truncated?: "truncated"
    case .messageDepthLimit?: "nested deeper than \(maxDepth) messages"
    case .malformedProtobuf?: "malformed protobuf"
    case .invalidUTF8?: "a string that is not UTF-8"
    default: "\(error)"
    }
  }

  /// An NS601 error about the model file.
  static func failure(_ path: String, _ what: String, notes: [String] = []) -> DiagnosticError {
    DiagnosticError([.error(.onnxModel, "`\(path)` \(what)", at: nil, notes: notes.map { .init($0) })])
  }

  /// The bytes of `tensor`'s external data: the file named by its `location`, relative to
  /// the model's folder and inside it, from `offset` for `length` bytes (`expected` when
  /// no length is given).
  mutating func externalBytes(of tensor: Onnx_TensorProto, expected: Int) throws(DiagnosticError) -> ArraySlice<UInt8> {
    var location = "", offset = 0, length: Int?
    for entry in tensor.externalData {
      switch entry.key {
      case "location": location = entry.value
      case "offset":
        guard let v = Int(entry.value), v >= 0 else { throw bad(tensor, "has external data offset `\(entry.value.prefix(40))`") }
        offset = v
      case "length":
        guard let v = Int(entry.value), v >= 0 else { throw bad(tensor, "has external data length `\(entry.value.prefix(40))`") }
        length = v
      default: continue
      }
    }
    let parts = location.split(separator: "/", omittingEmptySubsequences: false)
    guard !location.isEmpty, !location.hasPrefix("/"), !location.contains("\\"), !location.contains("\0"),
      !parts.contains(where: { $0 == ".." || $0.isEmpty })
    else {
      throw bad(tensor, "points its external data at `\(location.prefix(80))`, which is not a file inside the model's folder")
    }
    let full = folder.hasSuffix("/") ? folder + location : folder + "/" + location
    if data[full] == nil {
      // A symlink inside the folder may still lead out of it.
      guard let real = ONNXModelFile.realPath(full) else {
        throw ONNXModelFile.failure(
          path, "needs external data file `\(location)`, which cannot be read: \(String(cString: strerror(errno)))")
      }
      guard real.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/") else {
        throw bad(tensor, "points its external data at `\(location)`, which leads outside the model's folder")
      }
      do { data[full] = try FileSystem.read(real, maxBytes: Self.maxDataBytes) } catch {
        throw DiagnosticError([.error(.io, error.message, at: nil)])
      }
    }
    let file = data[full]!
    let n = length ?? expected
    let (end, overflow) = offset.addingReportingOverflow(n)
    guard !overflow, end <= file.count else {
      throw bad(tensor, "reads bytes \(offset)..<\(overflow ? "overflow" : String(end)) of `\(location)`, which has \(file.count)")
    }
    guard n == expected else { throw bad(tensor, "has \(n) bytes of external data where its dims need \(expected)") }
    return file[offset..<end]
  }

  func bad(_ tensor: Onnx_TensorProto, _ what: String) -> DiagnosticError {
    ONNXModelFile.failure(path, "is not a readable ONNX model: initializer `\(tensor.name.prefix(80))` \(what)")
  }

  /// `path` with every symlink resolved, or nil when it does not exist.
  static func realPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
  }
}
