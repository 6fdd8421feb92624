import NetcDiagnostics

/// A `weights:` mapping (layer name -> {weight, bias, gamma, beta, mean, var}), lowered
/// from its source with every range kept. Lowering reports nothing: which names and
/// tensors fit is known only against the graph's shapes, where the weights are bound.
public struct WeightsDecl: Sendable {
  /// What a mapping or a tensor was written as, when it is not what was expected.
  public struct Written: Sendable {
    /// A word for it, for messages: "a list", "a scalar `x`", "null".
    public var kind: String
    /// Where it was written.
    public var range: SourceRange

    /// Creates a description of a written value.
    public init(kind: String, range: SourceRange) {
      self.kind = kind
      self.range = range
    }
  }

  /// One tensor of a layer: `weight: [[...]]` or `weight: conv1.weight.npy`.
  public struct Entry: Sendable {
    /// Its value: a literal, or the path of an `.npy` file (relative to the file it is in).
    public enum Value: Sendable {
      case literal(TensorLiteral)
      case file(String)
    }

    /// The key as written (`weight`, `var`), or "" for a key that is not a scalar.
    public var key: String
    /// Where the key was written.
    public var keyRange: SourceRange
    /// The value.
    public var value: Value
    /// Where the value was written.
    public var range: SourceRange

    /// Creates a tensor entry.
    public init(key: String, keyRange: SourceRange, value: Value, range: SourceRange) {
      self.key = key
      self.keyRange = keyRange
      self.value = value
      self.range = range
    }
  }

  /// One layer's entry.
  public struct Layer: Sendable {
    /// The layer's name as written, or "" for a key that is not a scalar.
    public var name: String
    /// Where the name was written.
    public var nameRange: SourceRange
    /// The tensors, in document order, or nil when the value is not a mapping.
    public var tensors: [Entry]?
    /// The value as written.
    public var written: Written

    /// Creates a layer entry.
    public init(name: String, nameRange: SourceRange, tensors: [Entry]?, written: Written) {
      self.name = name
      self.nameRange = nameRange
      self.tensors = tensors
      self.written = written
    }
  }

  /// The layers, in document order, or nil when `weights:` is not a mapping.
  public var layers: [Layer]?
  /// The mapping as written.
  public var written: Written

  /// Creates a lowered `weights:` mapping.
  public init(layers: [Layer]?, written: Written) {
    self.layers = layers
    self.written = written
  }
}
