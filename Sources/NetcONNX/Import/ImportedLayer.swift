import NetcBackends
import NetcIR

/// One netc layer recognized in an ONNX graph (a merge too: the add, concat or product
/// that a structure's branches end in). Shapes are ONNX's per example: `[C, spatial...]`
/// or `[F]`, the batch left out.
struct ImportedLayer {
  var op: OpKind
  /// The shorthand head: `CONV3-64`, `BN`, `POOL3`.
  var head: String
  /// Options in the order a person writes them: `stride 2`, `pad 1`.
  var options: [String] = []
  /// Whether a conv or FC has a bias; nil for other layers.
  var bias: Bool?
  var parameters: [(ParameterKind, Tensor<Float>)] = []
  /// The layers whose outputs this one reads (index 0 is the model's input).
  var inputs: [Int]
  var shape: [Int]
  /// The dotted path of the module this layer came from (`layer1.0.conv1`), when the
  /// exporter recorded one.
  var modulePath: String?
  /// The ONNX node's name and the tensor it writes, for messages and use counts.
  var nodeName: String
  var outputName: String
  /// The ONNX op type of the node (the last node of a pattern), for messages.
  var opType = ""
  /// The EMBED whose table this LINEAR shares (`tie`): its weight is that one.
  var tiedTo: Int?
  /// The layer a cross-attention's keys and values read (`cross L`): not one of `inputs`,
  /// which are the dataflow that structures are found in.
  var cross: Int?

  /// Whether this layer is a merge of branches (it becomes a structure, not a line).
  /// A mixture's `.moe` reads the router and the experts (`ONNXMixturePattern`).
  var isMerge: Bool { op == .add || op == .concat || op == .mul || op == .moe }
}
