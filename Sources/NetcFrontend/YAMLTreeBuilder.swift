import NetcDiagnostics

/// Assembles `YAMLNode`s from a stream of parser events, enforcing `YAMLLimits` as it goes.
///
/// Kept apart from libyaml so that the tree rules (aliases, merge keys, duplicate keys, limits)
/// read as plain Swift. The open collections live on an explicit stack, never the call stack,
/// so nesting depth costs heap, not stack frames.
struct YAMLTreeBuilder {
  /// An open sequence or mapping, collecting its children until its end event.
  private struct Frame {
    let isMapping: Bool
    /// Block collections end where their last child ends; libyaml's end mark is the next token.
    let isBlock: Bool
    let start: SourceLocation
    /// Where the last child written in this collection ends.
    var lastEnd: SourceLocation
    let tag: String?
    let anchor: String?
    var items: [YAMLNode] = []
    var pairs: [YAMLPair] = []
    /// A mapping's key whose value has not arrived yet.
    var pendingKey: YAMLNode?
    /// Where each key of a mapping was first written, to point duplicates at it.
    var keys: [String: SourceRange] = [:]
    /// The mappings merged in by `<<`, and how many own pairs preceded each merge.
    var merges: [(position: Int, sources: [YAMLNode])] = []

    init(isMapping: Bool, isBlock: Bool, start: SourceLocation, tag: String?, anchor: String?) {
      self.isMapping = isMapping
      self.isBlock = isBlock
      self.start = start
      self.lastEnd = start
      self.tag = tag
      self.anchor = anchor
    }
  }

  /// The file the events come from, for ranges.
  let file: SourceFile
  /// The limits to enforce.
  let limits: YAMLLimits

  private var stack: [Frame] = []
  private var anchors: [String: YAMLNode] = [:]
  /// Anchors of collections still open: an alias to one of them would be a cycle.
  private var openAnchors: [String: Int] = [:]
  /// Nodes of the document so far with every alias expanded; bounds alias bombs.
  private var expandedNodes = 0
  private var documents = 0
  private var root: YAMLNode?
  /// Errors that leave the tree's shape intact, reported together at the end.
  private var diagnostics: [Diagnostic] = []

  init(file: SourceFile, limits: YAMLLimits) {
    self.file = file
    self.limits = limits
  }

  /// A document begins; a spec file holds exactly one.
  mutating func startDocument(at range: SourceRange) throws(DiagnosticError) {
    documents += 1
    if documents > 1 {
      fail(
        .yamlSyntax, "a spec file holds one YAML document", at: range,
        notes: [.init("remove the `---` line, or split the documents into separate files")])
      throw DiagnosticError(diagnostics)
    }
  }

  /// A scalar, with its properties.
  mutating func scalar(
    _ text: String, style: YAMLNode.ScalarStyle, tag: String?, anchor: String?, at range: SourceRange
  ) throws(DiagnosticError) {
    let length = text.utf8.count
    if length > limits.maxScalarBytes {
      fail(
        .sizeLimit,
        "scalar of \(length) bytes is longer than the \(limits.maxScalarBytes) bytes netc accepts",
        at: range)
      throw DiagnosticError(diagnostics)
    }
    try count(1, at: range, alias: nil)
    let node = YAMLNode(kind: .scalar(text, style), range: range, tag: tag)
    if let anchor { anchors[anchor] = node }
    attach(node)
  }

  /// An alias `*name`: the anchored node again, shared rather than copied.
  mutating func alias(_ name: String, at range: SourceRange) throws(DiagnosticError) {
    guard let target = anchors[name] else {
      if openAnchors[name, default: 0] > 0 {
        fail(
          .yamlSyntax, "alias `*\(name)` refers to a node that contains it", at: range,
          notes: [.init("a node cannot include itself; repeat its content instead")])
      } else {
        fail(
          .yamlSyntax, "unknown alias `*\(name)`", at: range,
          notes: [.init("an alias must follow an anchor `&\(name)` written earlier in the file")])
      }
      // A placeholder keeps the tree's shape so that later errors are still found.
      attach(YAMLNode(kind: .scalar("", .plain), range: range))
      return
    }
    try count(target.expandedSize, at: range, alias: (name, target))
    attach(target.aliased(at: range))
  }

  /// A sequence or mapping opens.
  mutating func startCollection(
    isMapping: Bool, isBlock: Bool, tag: String?, anchor: String?, at range: SourceRange
  ) throws(DiagnosticError) {
    if stack.count >= limits.maxDepth {
      fail(.nestingLimit, "nesting deeper than \(limits.maxDepth) levels", at: range)
      throw DiagnosticError(diagnostics)
    }
    try count(1, at: range, alias: nil)
    if let anchor { openAnchors[anchor, default: 0] += 1 }
    stack.append(Frame(isMapping: isMapping, isBlock: isBlock, start: range.start, tag: tag, anchor: anchor))
  }

  /// The innermost open collection closes at `end`.
  mutating func endCollection(at end: SourceLocation) {
    guard let frame = stack.popLast() else { return }
    let range = SourceRange(file: file.path, start: frame.start, end: frame.isBlock ? frame.lastEnd : end)
    let node: YAMLNode
    if frame.isMapping {
      node = YAMLNode(kind: .mapping(Self.mergedPairs(of: frame)), range: range, tag: frame.tag)
    } else {
      node = YAMLNode(kind: .sequence(frame.items), range: range, tag: frame.tag)
    }
    if let anchor = frame.anchor {
      openAnchors[anchor, default: 1] -= 1
      anchors[anchor] = node
    }
    attach(node)
  }

  /// The document's root once the stream has ended, or nil for an empty document.
  func finish() throws(DiagnosticError) -> YAMLNode? {
    if !diagnostics.isEmpty { throw DiagnosticError(diagnostics) }
    guard let root else { return nil }
    // `---` alone, or a document of nothing, arrives as an empty plain scalar of no width.
    if case .scalar("", .plain) = root.kind, root.tag == nil, root.range.start == root.range.end {
      return nil
    }
    return root
  }

  // MARK: - Tree assembly

  /// Adds a finished node to the innermost open collection, or makes it the root.
  private mutating func attach(_ node: YAMLNode) {
    guard !stack.isEmpty else {
      root = node
      return
    }
    let top = stack.count - 1
    stack[top].lastEnd = node.range.end
    guard stack[top].isMapping else {
      stack[top].items.append(node)
      return
    }
    guard let key = stack[top].pendingKey else {
      if node.scalar == nil {
        fail(.wrongType, "a mapping key must be a scalar, not \(node.kindDescription)", at: node.range)
      }
      stack[top].pendingKey = node
      return
    }
    stack[top].pendingKey = nil
    guard let name = key.scalar else { return }
    if let first = stack[top].keys[name] {
      fail(
        .duplicateKey, "duplicate key `\(name)`", at: key.range,
        notes: [.init("`\(name)` was first written here", at: first)])
      return
    }
    stack[top].keys[name] = key.range
    if Self.isMergeKey(key) {
      if let sources = mergeSources(node) {
        stack[top].merges.append((stack[top].pairs.count, sources))
      }
      return
    }
    stack[top].pairs.append(YAMLPair(key: key, value: node))
  }

  /// `<<` written plain (or tagged `!!merge`) is YAML 1.1's merge key; quoted, it is a plain key.
  private static func isMergeKey(_ key: YAMLNode) -> Bool {
    guard case .scalar("<<", let style) = key.kind else { return false }
    if let tag = key.tag { return tag == "!!merge" }
    return style == .plain
  }

  /// The mappings a merge key's value names, in priority order, or nil after reporting why not.
  private mutating func mergeSources(_ value: YAMLNode) -> [YAMLNode]? {
    switch value.kind {
    case .mapping: return [value]
    case .sequence(let items):
      for item in items where item.mapping == nil {
        fail(.wrongType, "a merge key `<<` takes mappings, not \(item.kindDescription)", at: item.range)
        return nil
      }
      return items
    case .scalar:
      fail(
        .wrongType, "a merge key `<<` takes a mapping or a list of mappings, not \(value.kindDescription)",
        at: value.range)
      return nil
    }
  }

  /// The mapping's pairs with its merges spliced in where each `<<` was written.
  ///
  /// As in YAML 1.1, a key written in the mapping itself wins over a merged one, and an
  /// earlier merged mapping wins over a later one.
  private static func mergedPairs(of frame: Frame) -> [YAMLPair] {
    guard !frame.merges.isEmpty else { return frame.pairs }
    var taken = Set(frame.keys.keys)
    var result: [YAMLPair] = []
    var next = 0
    func splice(upTo position: Int) {
      while next < frame.merges.count && frame.merges[next].position <= position {
        for source in frame.merges[next].sources {
          for pair in source.mapping ?? [] {
            if let name = pair.key.scalar, taken.insert(name).inserted { result.append(pair) }
          }
        }
        next += 1
      }
    }
    for (index, pair) in frame.pairs.enumerated() {
      splice(upTo: index)
      result.append(pair)
    }
    splice(upTo: Int.max)
    return result
  }

  // MARK: - Limits and errors

  /// Adds `size` expanded nodes to the document's count, failing once it passes the limit.
  private mutating func count(
    _ size: Int, at range: SourceRange, alias: (name: String, target: YAMLNode)?
  ) throws(DiagnosticError) {
    let (total, overflow) = expandedNodes.addingReportingOverflow(size)
    guard overflow || total > limits.maxExpandedNodes else {
      expandedNodes = total
      return
    }
    if let (name, target) = alias {
      fail(
        .expansionLimit, "aliases expand this document to more than \(limits.maxExpandedNodes) nodes",
        at: range,
        notes: [
          .init("each `*\(name)` repeats the \(target.expandedSize) nodes anchored here", at: target.range)
        ])
    } else {
      fail(.expansionLimit, "this document has more than \(limits.maxExpandedNodes) nodes", at: range)
    }
    throw DiagnosticError(diagnostics)
  }

  private mutating func fail(
    _ code: DiagnosticCode, _ message: String, at range: SourceRange, notes: [Diagnostic.Note] = []
  ) {
    diagnostics.append(.error(code, message, at: range, notes: notes))
  }
}
