/// Builds JSON text in a byte buffer: a 100,000-layer report is megabytes, and appending
/// bytes is several times cheaper than String interpolation.
struct JSONWriter {
  /// The UTF-8 bytes written so far.
  private(set) var bytes: [UInt8] = []

  init(capacity: Int = 1 << 12) { bytes.reserveCapacity(capacity) }

  /// Appends text that needs no escaping (punctuation, keys we choose).
  mutating func raw(_ text: StaticString) {
    text.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }

  /// Appends a string as a JSON literal, escaped as RFC 8259 requires.
  mutating func string(_ s: String) {
    bytes.append(UInt8(ascii: "\""))
    for byte in s.utf8 {
      switch byte {
      case UInt8(ascii: "\""): raw("\\\"")
      case UInt8(ascii: "\\"): raw("\\\\")
      case UInt8(ascii: "\n"): raw("\\n")
      case UInt8(ascii: "\r"): raw("\\r")
      case UInt8(ascii: "\t"): raw("\\t")
      case 0..<0x20:
        raw("\\u00")
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        bytes.append(hex[Int(byte >> 4)])
        bytes.append(hex[Int(byte & 15)])
      default: bytes.append(byte)
      }
    }
    bytes.append(UInt8(ascii: "\""))
  }

  /// Appends an integer in decimal.
  mutating func int(_ n: Int) {
    if n < 0 { bytes.append(UInt8(ascii: "-")) }
    var m = n.magnitude
    var digits:
      (
        UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
        UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
      ) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    withUnsafeMutableBytes(of: &digits) { buffer in
      repeat {
        buffer[19 - count] = UInt8(ascii: "0") + UInt8(m % 10)
        m /= 10
        count += 1
      } while m > 0
      bytes.append(contentsOf: buffer[(20 - count)...])
    }
  }

  /// Appends `[a, b, c]`.
  mutating func array(_ values: [Int]) {
    raw("[")
    for (i, v) in values.enumerated() {
      if i > 0 { raw(", ") }
      int(v)
    }
    raw("]")
  }

  /// The text written.
  var text: String { String(decoding: bytes, as: UTF8.self) }
}
