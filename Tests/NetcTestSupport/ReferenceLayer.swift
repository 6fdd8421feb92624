/// One layer of a reference fixture, as the generator scripts in scripts/reference/ write
/// it from PyTorch: the module's path and type, its output shape (netc's layout), and its
/// parameters and MACs (and, inside a mixture, the active parameters).
public struct ReferenceLayer: Decodable, Sendable {
  public var module: String
  public var type: String
  public var output: [Int]
  public var params: Int
  public var macs: Int
  public var active_params: Int?
}
