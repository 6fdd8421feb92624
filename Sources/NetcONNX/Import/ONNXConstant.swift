import Foundation
import NetcBackends
import NetcDiagnostics

/// A tensor known when the model is read: an initializer or a `Constant` node's value,
/// as Float (weights) and, for integer tensors, as the integers (shapes, axes).
struct ONNXConstant {
  /// The most elements one constant may have (netc's weights are Float, 4 bytes each).
  static let maxElements = 1 << 31

  var shape: [Int]
  var floats: [Float]
  /// The values of an integer tensor; nil for floating-point ones.
  var integers: [Int]?

  var tensor: Tensor<Float> { Tensor(shape: shape, data: floats) }
  var scalar: Float? { floats.count == 1 ? floats[0] : nil }

  init(shape: [Int], floats: [Float], integers: [Int]? = nil) {
    self.shape = shape
    self.floats = floats
    self.integers = integers
  }

  /// Decodes `proto`: float32, float64 and float16 become Float; int64, int32 and the
  /// smaller integer types keep their integers too.
  init(_ proto: Onnx_TensorProto, file: inout ONNXModelFile) throws(DiagnosticError) {
    var count = 1
    for d in proto.dims {
      let (next, overflow) = count.multipliedReportingOverflow(by: Int(clamping: d))
      guard d >= 0, !overflow, next <= Self.maxElements else {
        throw file.bad(proto, "has dims \(proto.dims.prefix(8)), more elements than netc reads (\(Self.maxElements))")
      }
      count = next
    }
    shape = proto.dims.map { Int($0) }
    guard let type = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType)) else {
      throw file.bad(proto, "has data type \(proto.dataType), which ONNX does not define")
    }
    let width: Int
    switch type {
    case .float, .int32, .uint32: width = 4
    case .double, .int64, .uint64: width = 8
    case .float16, .int16, .uint16, .bfloat16: width = 2
    case .int8, .uint8, .bool: width = 1
    default:
      throw file.bad(proto, "has data type \(type), which netc does not import (float32, float64, float16 and integers)")
    }
    let raw: ArraySlice<UInt8>?
    if proto.dataLocation == .external {
      raw = try file.externalBytes(of: proto, expected: count * width)
    } else if proto.hasRawData {
      guard proto.rawData.count == count * width else {
        throw file.bad(proto, "has \(proto.rawData.count) bytes of data where its dims need \(count * width)")
      }
      raw = ArraySlice(proto.rawData)
    } else {
      raw = nil
    }
    if let raw {
      (floats, integers) = Self.decode(raw, type: type, count: count)
      return
    }
    // Typed fields: float_data, double_data, int32_data (also float16 and the small
    // integers, one per element), int64_data.
    let given: Int
    switch type {
    case .float:
      given = proto.floatData.count
      floats = proto.floatData
      integers = nil
    case .double:
      given = proto.doubleData.count
      floats = proto.doubleData.map { Float($0) }
      integers = nil
    case .int64:
      given = proto.int64Data.count
      integers = proto.int64Data.map { Int($0) }
      floats = proto.int64Data.map { Float($0) }
    case .float16:
      given = proto.int32Data.count
      floats = proto.int32Data.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) }
      integers = nil
    default:
      given = proto.int32Data.count
      integers = proto.int32Data.map { Int($0) }
      floats = proto.int32Data.map { Float($0) }
    }
    guard given == count else { throw file.bad(proto, "has \(given) values where its dims need \(count)") }
  }

  /// Little-endian elements of `type`.
  static func decode(_ raw: ArraySlice<UInt8>, type: Onnx_TensorProto.DataType, count: Int) -> ([Float], [Int]?) {
    var floats = [Float](repeating: 0, count: count)
    var ints: [Int]? = nil
    raw.withUnsafeBytes { b in
      func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
        T(littleEndian: b.loadUnaligned(fromByteOffset: i * T.bitWidth / 8, as: T.self))
      }
      switch type {
      case .float: for i in 0..<count { floats[i] = Float(bitPattern: load(UInt32.self, i)) }
      case .double: for i in 0..<count { floats[i] = Float(Double(bitPattern: load(UInt64.self, i))) }
      case .float16: for i in 0..<count { floats[i] = Float(Float16(bitPattern: load(UInt16.self, i))) }
      case .bfloat16: for i in 0..<count { floats[i] = Float(bitPattern: UInt32(load(UInt16.self, i)) << 16) }
      default:
        var v = [Int](repeating: 0, count: count)
        for i in 0..<count {
          switch type {
          case .int64: v[i] = Int(load(Int64.self, i))
          case .uint64: v[i] = Int(truncatingIfNeeded: load(UInt64.self, i))
          case .int32: v[i] = Int(load(Int32.self, i))
          case .uint32: v[i] = Int(load(UInt32.self, i))
          case .int16: v[i] = Int(load(Int16.self, i))
          case .uint16: v[i] = Int(load(UInt16.self, i))
          case .int8: v[i] = Int(load(Int8.self, i))
          default: v[i] = Int(load(UInt8.self, i))
          }
          floats[i] = Float(v[i])
        }
        ints = v
      }
    }
    return (floats, ints)
  }
}
