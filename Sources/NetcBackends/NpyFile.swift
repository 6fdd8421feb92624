/// NumPy's `.npy` format (version 1-3), read and written by netc itself: little-endian
/// `f4`/`f8` (and integer types on reading), C order.
public enum NpyFile {
  /// Reads the array at `path` as a tensor of `T`.
  public static func read<T: TensorScalar>(_ path: String, as: T.Type = T.self) throws(FileError) -> Tensor<T> {
    try decode(FileIO.read(path), path: path)
  }

  /// Decodes the bytes of an `.npy` file; `path` names it in errors.
  public static func decode<T: TensorScalar>(_ bytes: [UInt8], path: String) throws(FileError) -> Tensor<T> {
    // Specialised per precision inside this module (a generic call from outside is slow).
    if T.self == Float.self { return try decodeImpl(bytes, path: path, as: Float.self) as! Tensor<T> }
    if T.self == Double.self { return try decodeImpl(bytes, path: path, as: Double.self) as! Tensor<T> }
    return try decodeImpl(bytes, path: path, as: T.self)
  }

  static func decodeImpl<T: TensorScalar>(_ bytes: [UInt8], path: String, as: T.Type) throws(FileError) -> Tensor<T> {
    func fail(_ why: String) -> FileError { FileError(message: "`\(path)` is not a readable .npy file: \(why)") }
    guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
      throw fail("it does not start with the .npy magic `\\x93NUMPY`")
    }
    let major = bytes[6]
    let headerLength: Int, start: Int
    switch major {
    case 1:
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      start = 10
    case 2, 3:
      guard bytes.count >= 12 else { throw fail("the header is cut short") }
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
      start = 12
    default:
      throw fail("format version \(major) is not 1, 2 or 3")
    }
    guard start + headerLength <= bytes.count else { throw fail("the header is cut short") }
    let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
    guard let descr = field(header, "descr").map({ $0.trimmingCharacters(in: "'\" ") }) else { throw fail("the header has no `descr`") }
    if let order = field(header, "fortran_order"), order.contains("True") {
      throw fail("it is in Fortran order; save it with np.ascontiguousarray")
    }
    guard let shapeText = field(header, "shape") else { throw fail("the header has no `shape`") }
    var shape: [Int] = []
    for part in shapeText.trimmingCharacters(in: "() ").split(separator: ",") {
      let t = String(part).trimmingCharacters(in: " L")
      if t.isEmpty { continue }
      guard let n = Int(t), n >= 0 else { throw fail("the shape `\(shapeText)` is not a tuple of sizes") }
      shape.append(n)
    }
    var count = 1
    for n in shape {
      let (c, o) = count.multipliedReportingOverflow(by: n)
      guard !o else { throw fail("the shape `\(shapeText)` is too large") }
      count = c
    }
    let byteOrder = descr.first
    let kind = descr.dropFirst()
    guard byteOrder == "<" || byteOrder == "|" || byteOrder == "=" else {
      throw fail("element type `\(descr)` is big-endian; netc reads little-endian arrays")
    }
    let size: Int
    switch kind {
    case "f4", "i4", "u4": size = 4
    case "f8", "i8", "u8": size = 8
    case "i2", "u2": size = 2
    case "i1", "u1", "b1": size = 1
    default: throw fail("element type `\(descr)` is not one of f4, f8 or an integer type")
    }
    let dataStart = start + headerLength
    let (needed, o) = count.multipliedReportingOverflow(by: size)
    guard !o, bytes.count - dataStart >= needed else {
      throw fail("it holds \(bytes.count - dataStart) data bytes, the shape \(shapeText) needs \(needed)")
    }
    var data = [T](repeating: 0, count: count)
    // One loop per element type: the type is decided once, not per element.
    func fill<R>(_ load: (UnsafeRawPointer) -> R, _ convert: (R) -> T) {
      bytes.withUnsafeBytes { raw in
        data.withUnsafeMutableBufferPointer { out in
          let base = raw.baseAddress! + dataStart
          for i in 0..<count { out[i] = convert(load(base + i * size)) }
        }
      }
    }
    switch kind {
    case "f4": fill({ Float(bitPattern: $0.loadUnaligned(as: UInt32.self).littleEndian) }, { T($0) })
    case "f8": fill({ Double(bitPattern: $0.loadUnaligned(as: UInt64.self).littleEndian) }, { T($0) })
    case "i4": fill({ Int32(littleEndian: $0.loadUnaligned(as: Int32.self)) }, { T($0) })
    case "u4": fill({ UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }, { T($0) })
    case "i8": fill({ Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }, { T($0) })
    case "u8": fill({ UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }, { T($0) })
    case "i2": fill({ Int16(littleEndian: $0.loadUnaligned(as: Int16.self)) }, { T($0) })
    case "u2": fill({ UInt16(littleEndian: $0.loadUnaligned(as: UInt16.self)) }, { T($0) })
    case "i1": fill({ $0.load(as: Int8.self) }, { T($0) })
    default: fill({ $0.load(as: UInt8.self) }, { T($0) })
    }
    return Tensor(shape: shape, data: data)
  }

  /// The bytes of an `.npy` file (version 1.0) holding `tensor` as `<f4` or `<f8`.
  public static func encode<T: TensorScalar>(_ tensor: Tensor<T>) -> [UInt8] {
    let shapeText = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(T.npyDescriptor)', 'fortran_order': False, 'shape': \(shapeText), }"
    // Magic (6) + version (2) + length (2) + header + newline, padded to 64 bytes.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let n = header.utf8.count
    bytes += [UInt8(n & 0xff), UInt8(n >> 8)]
    bytes += Array(header.utf8)
    bytes.reserveCapacity(bytes.count + tensor.count * MemoryLayout<T>.size)
    for v in tensor.data {
      if T.self == Float.self {
        withUnsafeBytes(of: (v as! Float).bitPattern.littleEndian) { bytes += $0 }
      } else {
        withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { bytes += $0 }
      }
    }
    return bytes
  }

  /// Writes `tensor` to `path` as an `.npy` file.
  public static func write<T: TensorScalar>(_ tensor: Tensor<T>, to path: String) throws(FileError) {
    try FileIO.write(encode(tensor), to: path)
  }

  /// The text of `key`'s value in a header dict (`{'descr': '<f4', 'shape': (2, 3), }`).
  static func field(_ header: String, _ key: String) -> String? {
    for quote in ["'", "\""] {
      guard let at = header.firstRange(of: quote + key + quote) else { continue }
      var rest = header[at.upperBound...].drop(while: { $0 == " " || $0 == ":" })
      if rest.first == "(" {
        guard let close = rest.firstIndex(of: ")") else { return nil }
        return String(rest[...close])
      }
      let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) ?? rest.endIndex
      rest = rest[..<end]
      return String(rest)
    }
    return nil
  }
}

extension String {
  /// The string without leading and trailing characters from `set`.
  func trimmingCharacters(in set: String) -> String {
    var s = Substring(self)
    while let f = s.first, set.contains(f) { s = s.dropFirst() }
    while let l = s.last, set.contains(l) { s = s.dropLast() }
    return String(s)
  }
}
