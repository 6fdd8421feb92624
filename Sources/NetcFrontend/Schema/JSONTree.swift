import NetcDiagnostics

/// A JSON value whose objects keep their keys in the order written, printed as Python's
/// `json.dump(value, indent=2, ensure_ascii=False)` prints: the layout the schema file has
/// always had, so regenerating it changes only what changed.
public indirect enum JSONTree: Sendable {
  case object([(String, JSONTree)])
  case array([JSONTree])
  case string(String)
  case integer(Int)
  case bool(Bool)
  case null

  /// The text, indented by two spaces per level, without a final newline.
  public func text(level: Int = 0) -> String {
    let inner = String(repeating: " ", count: 2 * (level + 1))
    let outer = String(repeating: " ", count: 2 * level)
    switch self {
    case .object(let pairs):
      if pairs.isEmpty { return "{}" }
      let items = pairs.map { inner + Self.quoted($0.0) + ": " + $0.1.text(level: level + 1) }
      return "{\n" + items.joined(separator: ",\n") + "\n" + outer + "}"
    case .array(let items):
      if items.isEmpty { return "[]" }
      return "[\n" + items.map { inner + $0.text(level: level + 1) }.joined(separator: ",\n") + "\n" + outer + "]"
    case .string(let s): return Self.quoted(s)
    case .integer(let n): return String(n)
    case .bool(let b): return b ? "true" : "false"
    case .null: return "null"
    }
  }

  /// A string literal: the escapes of every JSON netc writes (the schema has no control
  /// characters, where Python's `json` would differ).
  static func quoted(_ s: String) -> String { jsonString(s) }

  /// An object from literal pairs.
  static func obj(_ pairs: KeyValuePairs<String, JSONTree>) -> JSONTree { .object(pairs.map { ($0.key, $0.value) }) }
}

extension JSONTree: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByArrayLiteral
{
  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int) { self = .integer(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(arrayLiteral elements: JSONTree...) { self = .array(elements) }
}
