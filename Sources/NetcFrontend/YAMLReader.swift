import CYAML
import NetcDiagnostics

/// Limits that keep hostile YAML bounded in time and memory.
public struct YAMLLimits: Sendable {
  /// The most nodes the document may stand for with aliases expanded.
  public var maxExpandedNodes: Int
  /// The deepest nesting of sequences and mappings.
  public var maxDepth: Int
  /// The longest scalar, in bytes.
  public var maxScalarBytes: Int

  /// Creates limits.
  public init(maxExpandedNodes: Int = 4_000_000, maxDepth: Int = 200, maxScalarBytes: Int = 1 << 16) {
    self.maxExpandedNodes = maxExpandedNodes
    self.maxDepth = maxDepth
    self.maxScalarBytes = maxScalarBytes
  }

  /// The limits netc uses unless told otherwise.
  public static let `default` = YAMLLimits()
}

/// Reads one YAML document through libyaml's event API into a tree of `YAMLNode`s.
public enum YAMLReader {
  /// The document's root node, or nil for an empty document.
  ///
  /// Events rather than `yaml_parser_load`: the loader looks anchors up in a list, which
  /// takes minutes on 160,000 anchors, and it builds the whole tree before any limit applies.
  public static func read(_ file: SourceFile, limits: YAMLLimits = .default) throws(DiagnosticError)
    -> YAMLNode?
  {
    // libyaml reads the input lazily, so the bytes must outlive every `yaml_parser_parse`.
    let utf8 = file.text.utf8
    let input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(utf8.count, 1))
    defer { input.deallocate() }
    _ = input.initialize(from: utf8)

    // The string reader stores the parser's own address in the parser, so it needs a fixed
    // place in memory; a Swift `var` is only pinned for the length of one call.
    let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
    defer { parser.deallocate() }
    guard yaml_parser_initialize(parser) == 1 else {
      throw DiagnosticError([.error(.io, "out of memory while starting the YAML parser", at: nil)])
    }
    defer { yaml_parser_delete(parser) }
    yaml_parser_set_input_string(parser, input.baseAddress, utf8.count)
    // The loader has already checked that the text is UTF-8; never guess UTF-16 from a BOM.
    yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)

    var builder = YAMLTreeBuilder(file: file, limits: limits)
    var event = yaml_event_t()
    var streamEnded = false
    while !streamEnded {
      guard yaml_parser_parse(parser, &event) == 1 else {
        throw DiagnosticError([syntaxError(parser.pointee, in: file)])
      }
      defer { yaml_event_delete(&event) }
      let range = SourceRange(
        file: file.path, start: location(event.start_mark), end: location(event.end_mark))
      switch event.type {
      case YAML_STREAM_END_EVENT:
        streamEnded = true
      case YAML_DOCUMENT_START_EVENT:
        try builder.startDocument(at: range)
      case YAML_ALIAS_EVENT:
        try builder.alias(string(event.data.alias.anchor) ?? "", at: range)
      case YAML_SCALAR_EVENT:
        let scalar = event.data.scalar
        let text = scalar.value.map {
          String(decoding: UnsafeBufferPointer(start: $0, count: scalar.length), as: UTF8.self)
        }
        try builder.scalar(
          text ?? "", style: style(scalar.style), tag: tag(scalar.tag), anchor: string(scalar.anchor),
          at: range)
      case YAML_SEQUENCE_START_EVENT:
        let start = event.data.sequence_start
        try builder.startCollection(
          isMapping: false, isBlock: start.style == YAML_BLOCK_SEQUENCE_STYLE, tag: tag(start.tag),
          anchor: string(start.anchor), at: range)
      case YAML_MAPPING_START_EVENT:
        let start = event.data.mapping_start
        try builder.startCollection(
          isMapping: true, isBlock: start.style == YAML_BLOCK_MAPPING_STYLE, tag: tag(start.tag),
          anchor: string(start.anchor), at: range)
      case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
        builder.endCollection(at: range.end)
      default:
        break
      }
    }
    return try builder.finish()
  }

  /// A libyaml mark (0-based line and column, columns in characters) as a 1-based location.
  private static func location(_ mark: yaml_mark_t) -> SourceLocation {
    SourceLocation(line: mark.line + 1, column: mark.column + 1)
  }

  private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
    pointer.map { String(cString: $0) }
  }

  /// The tag as written: libyaml expands `!!str` to `tag:yaml.org,2002:str`, so shorten it back.
  private static func tag(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
    guard let tag = string(pointer) else { return nil }
    let core = "tag:yaml.org,2002:"
    return tag.hasPrefix(core) ? "!!" + tag.dropFirst(core.count) : tag
  }

  private static func style(_ style: yaml_scalar_style_t) -> YAMLNode.ScalarStyle {
    switch style {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
    case YAML_LITERAL_SCALAR_STYLE: .literal
    case YAML_FOLDED_SCALAR_STYLE: .folded
    default: .plain
    }
  }

  /// libyaml's error as a diagnostic at the problem, with its context as a note.
  private static func syntaxError(_ parser: yaml_parser_t, in file: SourceFile) -> Diagnostic {
    let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
    switch parser.error {
    case YAML_MEMORY_ERROR:
      return .error(.yamlSyntax, "out of memory while reading YAML", at: nil)
    case YAML_READER_ERROR:
      // Reader errors carry a byte offset instead of a mark.
      let start = location(ofByte: parser.problem_offset, in: file)
      let value = parser.problem_value >= 0 ? " (U+\(hex(parser.problem_value)))" : ""
      return .error(
        .yamlSyntax, lowercased(problem) + value, at: SourceRange(file: file.path, start: start, length: 1))
    default:
      break
    }
    let start = location(parser.problem_mark)
    let range = SourceRange(file: file.path, start: start, length: 1)
    var notes: [Diagnostic.Note] = []
    if let context = parser.context {
      let contextRange = SourceRange(file: file.path, start: location(parser.context_mark), length: 1)
      notes.append(.init(lowercased(String(cString: context)), at: contextRange))
    }
    if character(at: start, in: file) == "\t" {
      notes.append(.init("YAML does not allow tabs for indentation; use spaces"))
    }
    // `{` may not stand unquoted in a flow list, and `${...}` is the likeliest reason.
    if let context = parser.context, String(cString: context).contains("flow"),
      file.line(start.line)?.contains("${") == true
    {
      notes.append(
        .init("`${...}` cannot stand unquoted inside `[...]`: quote the layer, as in \"CONV1-${4*mid}\", or write one layer per line"))
    }
    return .error(.yamlSyntax, lowercased(problem), at: range, notes: notes)
  }

  private static func character(at location: SourceLocation, in file: SourceFile) -> Unicode.Scalar? {
    guard let line = file.line(location.line), location.column >= 1 else { return nil }
    return line.unicodeScalars.dropFirst(location.column - 1).first
  }

  /// The location of a byte offset into the file's UTF-8, counting columns in scalars.
  private static func location(ofByte offset: Int, in file: SourceFile) -> SourceLocation {
    var line = 1
    var column = 1
    var consumed = 0
    for scalar in file.text.unicodeScalars {
      if consumed >= offset { break }
      consumed += UTF8.width(scalar)
      if scalar == "\n" {
        line += 1
        column = 1
      } else {
        column += 1
      }
    }
    return SourceLocation(line: line, column: column)
  }

  private static func lowercased(_ message: String) -> String {
    guard let first = message.first else { return message }
    return first.lowercased() + message.dropFirst()
  }

  private static func hex(_ value: Int32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
  }
}
