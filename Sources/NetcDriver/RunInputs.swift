import NetcBackends
import NetcDiagnostics
import NetcIR
import NetcPasses

/// The tensors `run` feeds a spec: one `--input TENSOR` for a spec with one `input:`, or
/// one `--input NAME=TENSOR` per input of a spec with several (`inputs:`).
struct RunInputs<T: TensorScalar> {
  /// Each input's tensor, by its node's id (0 the first).
  var tensors: [Int: Tensor<T>] = [:]

  /// A message for standard error; the exit code is 2 (usage).
  struct Failure: Error {
    var message: String
  }

  /// Reads the `--input` arguments `given` for `graph`, each shaped as `shapes` has it.
  static func read(
    _ given: [String], graph: Graph, shapes: Shapes, sources: inout [SourceFile]
  ) throws(DiagnosticError) -> Result<RunInputs, Failure> {
    var out = RunInputs()
    guard !graph.namedInputs.isEmpty else {
      guard given.count == 1 else {
        return .failure(Failure(message: "the spec has one input: give one --input, not \(given.count)"))
      }
      let x: Tensor<T> = try TensorArgument.read(given[0], what: "--input", sources: &sources)
      switch fitted(x, to: shapes[0], what: "the input", spec: "the spec's input") {
      case .success(let t): out.tensors[0] = t
      case .failure(let f): return .failure(f)
      }
      return .success(out)
    }
    let names = graph.namedInputs.map(\.name)
    let list = names.map { "--input \($0)=TENSOR" }.joined(separator: " ")
    for argument in given {
      guard let equals = argument.firstIndex(of: "="), !argument[..<equals].isEmpty else {
        return .failure(Failure(message: "--input `\(argument.prefix(60))`: the spec has \(names.count) inputs; give each as \(list)"))
      }
      let name = String(argument[..<equals])
      guard let input = graph.namedInputs.first(where: { $0.name == name }) else {
        let hint = closestMatch(to: name, in: names).map { "; did you mean `\($0)`?" } ?? ""
        return .failure(
          Failure(
            message:
              "--input \(name.prefix(60))=...: the spec has no input `\(name.prefix(60))`\(hint) (its inputs: \(names.joined(separator: ", ")))"
          ))
      }
      guard out.tensors[input.node] == nil else {
        return .failure(Failure(message: "--input \(name)=... is given twice"))
      }
      let x: Tensor<T> = try TensorArgument.read(
        String(argument[argument.index(after: equals)...]), what: "--input \(name)", sources: &sources)
      switch fitted(x, to: shapes[input.node], what: "the input `\(name)`", spec: "the spec's `\(name)`") {
      case .success(let t): out.tensors[input.node] = t
      case .failure(let f): return .failure(f)
      }
    }
    let missing = graph.namedInputs.filter { out.tensors[$0.node] == nil }.map(\.name)
    if !missing.isEmpty {
      return .failure(Failure(message: "no --input for \(missing.map { "`\($0)`" }.joined(separator: ", ")): give each as \(list)"))
    }
    return .success(out)
  }

  /// `x` in the shape `inShape`: a number fills it (as it fills a weight), an `HxW` matrix
  /// is one channel, a flat list is a vector.
  static func fitted(_ x: Tensor<T>, to inShape: [Int], what: String, spec: String) -> Result<Tensor<T>, Failure> {
    if x.shape.isEmpty, x.count == 1 { return .success(Tensor(shape: inShape, repeating: x.data[0])) }
    if x.shape == inShape { return .success(x) }
    let matrixForOneChannel = inShape.count == 3 && inShape[2] == 1 && x.shape == Array(inShape.prefix(2))
    let flatForVector = inShape.count == 1 && x.count == inShape[0]
    guard matrixForOneChannel || flatForVector else {
      return .failure(
        Failure(
          message: "\(what) is \(name(x.shape)), \(spec) is \(name(inShape))"
            + (inShape.count == 3 && inShape[2] == 1 ? " (or \(name(Array(inShape.prefix(2)))) for one channel)" : "")))
    }
    return .success(Tensor(shape: inShape, data: x.data))
  }

  static func name(_ shape: [Int]) -> String { shape.isEmpty ? "a scalar" : formatShape(shape) }

  /// The first input, node 0's.
  var first: Tensor<T> { tensors[0]! }

  /// The others, for `Interpreter.forward(_:others:)`.
  var others: [Int: Tensor<T>] { tensors.filter { $0.key != 0 } }
}
