import Foundation
import Testing

@testable import NetcBackends

@Suite struct NpyFileTests {
  /// Bytes NumPy 1.x/2.x writes for `np.save(f, np.array([[1, 2, 3], [4, 5, 6]], dtype='<f4'))`:
  /// magic, version 1.0, header length 118, the dict padded to 128 bytes, then the data.
  static let numpyFloat32: [UInt8] = {
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    let padded = header + String(repeating: " ", count: 128 - 10 - header.utf8.count - 1) + "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(padded.utf8.count), 0] + Array(padded.utf8)
    for v: Float in [1, 2, 3, 4, 5, 6] { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
    return bytes
  }()

  @Test func readsWhatNumPyWrites() throws {
    let t: Tensor<Double> = try NpyFile.decode(Self.numpyFloat32, path: "a.npy")
    #expect(t.shape == [2, 3])
    #expect(t.data == [1, 2, 3, 4, 5, 6])
  }

  @Test func writesWhatItReads() throws {
    let t = Tensor<Double>(shape: [2, 1, 2], data: [0.1, -2, 3e-300, .infinity])
    let back: Tensor<Double> = try NpyFile.decode(NpyFile.encode(t), path: "b.npy")
    #expect(back == t)
    // The header is padded so the data starts on a 64-byte boundary, as NumPy does.
    let bytes = NpyFile.encode(Tensor<Float>(shape: [], data: [7]))
    #expect((bytes.count - 4) % 64 == 0)
    let scalar: Tensor<Float> = try NpyFile.decode(bytes, path: "c.npy")
    #expect(scalar.shape == [] && scalar.data == [7])
  }

  @Test(arguments: [
    ("not npy", "does not start with the .npy magic"),
    ("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", "big-endian"),
    ("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", "Fortran order"),
    ("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "is not one of f4, f8"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (9,), }", "holds 4 data bytes, the shape (9,) needs 36"),
  ])
  func rejectsWithAReason(_ header: String, _ reason: String) {
    var bytes: [UInt8] =
      header == "not npy"
      ? Array("not npy at all".utf8) : [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
    bytes += [0, 0, 128, 63]
    #expect {
      let _: Tensor<Float> = try NpyFile.decode(bytes, path: "bad.npy")
    } throws: { error in
      let message = (error as! FileError).message
      return message.contains("`bad.npy`") && message.contains(reason)
    }
  }

  /// A path in a spec's `weights:` may name anything: a FIFO is refused at once (opening it
  /// for reading would wait for a writer forever), a device too (it has no size to check).
  @Test("a FIFO or a device is refused at once, not waited on or read")
  func notARegularFile() throws {
    let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("netc-fifo-\(UUID().uuidString).npy").path
    #expect(mkfifo(fifo, 0o600) == 0)
    defer { unlink(fifo) }
    for path in [fifo, "/dev/zero"] {
      #expect {
        let _: Tensor<Float> = try NpyFile.read(path)
      } throws: { error in
        (error as! FileError).message == "`\(path)` is not a regular file (a FIFO, a device or a socket); netc reads tensors from files"
      }
    }
  }
}
