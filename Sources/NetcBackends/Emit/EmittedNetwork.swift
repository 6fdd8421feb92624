/// What `SwiftEmitter.emit` produces: the source, the packed weights it reads, and the
/// schedule (for `bench`'s per-layer report).
public struct EmittedNetwork: Sendable {
  /// One kernel call of `forward`.
  public struct Step: Sendable {
    /// The layers it computes (a conv, its folded BN and its activation), dotted names.
    public var layers: [String]
    /// The op of its first layer (`conv`, `pool`, ...).
    public var op: String
    /// Multiply-accumulates (conv and FC), for GFLOP/s.
    public var macs: Int
  }

  /// The Swift type's name.
  public var typeName: String
  /// The Swift source.
  public var source: String
  /// The weights in the kernels' layouts, as `init(weightsFile:)` reads them.
  public var weights: [Float]
  /// The kernel calls of `forward`, in order.
  public var steps: [Step]
  /// Elements of the activation arena (the peak of intermediate memory), and what the
  /// same buffers would take if none were shared.
  public var arenaElements: Int
  public var unsharedElements: Int
  /// The input and output shapes (channels last).
  public var inputShape: [Int], outputShape: [Int]

  /// The weights file's bytes: `NETCW001`, the element count (UInt64 little endian), then
  /// the elements as little-endian Float32.
  public var weightsFile: [UInt8] {
    var out = Array("NETCW001".utf8)
    withUnsafeBytes(of: UInt64(weights.count).littleEndian) { out += $0 }
    out.reserveCapacity(16 + weights.count * 4)
    for w in weights { withUnsafeBytes(of: w.bitPattern.littleEndian) { out += $0 } }
    return out
  }
}

extension EmittedNetwork {
  /// Writes the source to `sourcePath` and, unless nil, the weights file to `weightsPath`.
  public func write(source sourcePath: String, weights weightsPath: String?) throws(FileError) {
    try FileIO.write(Array(source.utf8), to: sourcePath)
    if let weightsPath { try FileIO.write(weightsFile, to: weightsPath) }
  }

  /// The weights file's path beside a source path: `Net.swift` -> `Net.weights`.
  public static func weightsPath(besides sourcePath: String) -> String {
    (sourcePath.hasSuffix(".swift") ? String(sourcePath.dropLast(6)) : sourcePath) + ".weights"
  }
}
