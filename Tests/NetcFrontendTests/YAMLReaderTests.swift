import NetcDiagnostics
import Testing

@testable import NetcFrontend

/// Reads `text` as the file `t.yaml`.
private func read(_ text: String, limits: YAMLLimits = .default) throws(DiagnosticError) -> YAMLNode? {
  try YAMLReader.read(SourceFile(path: "t.yaml", text: text), limits: limits)
}

/// The diagnostics reading `text` throws; a test fails if it throws none.
private func diagnostics(
  _ text: String, limits: YAMLLimits = .default, sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> [Diagnostic] {
  do {
    _ = try read(text, limits: limits)
    Issue.record("expected an error", sourceLocation: sourceLocation)
    return []
  } catch {
    return error.diagnostics
  }
}

/// The one diagnostic reading `text` throws.
private func diagnostic(
  _ text: String, limits: YAMLLimits = .default, sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws -> Diagnostic {
  let all = diagnostics(text, limits: limits, sourceLocation: sourceLocation)
  #expect(all.count == 1, "\(all)", sourceLocation: sourceLocation)
  return try #require(all.first, sourceLocation: sourceLocation)
}

private func at(_ line: Int, _ column: Int) -> NetcDiagnostics.SourceLocation {
  NetcDiagnostics.SourceLocation(line: line, column: column)
}

/// The value of `key` in a mapping node.
private func value(_ node: YAMLNode?, _ key: String) -> YAMLNode? {
  node?.mapping?.first { $0.key.scalar == key }?.value
}

/// The keys of a mapping node, in order.
private func keys(_ node: YAMLNode?) -> [String] {
  node?.mapping?.compactMap(\.key.scalar) ?? []
}

/// A mapping's pairs as `key=value` text, for comparing whole mappings of scalars.
private func flat(_ node: YAMLNode?) -> [String] {
  node?.mapping?.map { "\($0.key.scalar ?? "?")=\($0.value.scalar ?? "?")" } ?? []
}

@Suite("YAMLReader")
struct YAMLReaderTests {
  // MARK: - Structure

  @Test(
    "scalars keep their text and style",
    arguments: [
      ("v: 3", "3", YAMLNode.ScalarStyle.plain),
      ("v: '3'", "3", .singleQuoted),
      ("v: \"a\\tb\"", "a\tb", .doubleQuoted),
      ("v: 'it''s'", "it's", .singleQuoted),
      ("v: |\n  one\n  two\n", "one\ntwo\n", .literal),
      ("v: >\n  one\n  two\n", "one two\n", .folded),
      ("v:", "", .plain),
      ("v: ~", "~", .plain),
      ("v: hello world", "hello world", .plain),
    ])
  func scalarStyles(input: String, text: String, style: YAMLNode.ScalarStyle) throws {
    let node = try #require(value(try read(input), "v"))
    guard case .scalar(let actualText, let actualStyle) = node.kind else {
      Issue.record("not a scalar: \(node.kind)")
      return
    }
    #expect(actualText == text)
    #expect(actualStyle == style)
  }

  @Test("explicit tags are kept in their short form")
  func tags() throws {
    let root = try read("a: !!str 3\nb: !custom 4\nc: 5\nd: !!int '6'\n")
    #expect(value(root, "a")?.tag == "!!str")
    #expect(value(root, "b")?.tag == "!custom")
    #expect(value(root, "c")?.tag == nil)
    #expect(value(root, "d")?.tag == "!!int")
    #expect(value(root, "a")?.isPlainScalar == false)
    #expect(value(root, "c")?.isPlainScalar == true)
  }

  @Test(
    "block and flow collections read the same",
    arguments: [
      "name: net\nlayers:\n  - CONV3-10\n  - RELU\nopts:\n  x: 1\n  y: [2, 3]\n",
      "{name: net, layers: [CONV3-10, RELU], opts: {x: 1, y: [2, 3]}}",
    ])
  func collections(input: String) throws {
    let root = try read(input)
    #expect(keys(root) == ["name", "layers", "opts"])
    #expect(value(root, "name")?.scalar == "net")
    #expect(value(root, "layers")?.sequence?.map(\.scalar) == ["CONV3-10", "RELU"])
    let opts = value(root, "opts")
    #expect(value(opts, "x")?.scalar == "1")
    #expect(value(opts, "y")?.sequence?.compactMap(\.scalar) == ["2", "3"])
  }

  @Test("empty sequences and mappings")
  func emptyCollections() throws {
    let root = try read("a: []\nb: {}\n")
    #expect(value(root, "a")?.sequence?.isEmpty == true)
    #expect(value(root, "b")?.mapping?.isEmpty == true)
  }

  @Test(
    "a document of nothing is nil", arguments: ["", "\n\n", "# only a comment\n", "---\n", "--- \n...\n"])
  func emptyDocument(input: String) throws {
    #expect(try read(input) == nil)
  }

  @Test("a top-level scalar is a document")
  func scalarDocument() throws {
    #expect(try read("hello\n")?.scalar == "hello")
    #expect(try read("''")?.scalar == "")
  }

  // MARK: - Positions

  @Test("nodes carry 1-based ranges, columns in Unicode scalars")
  func positions() throws {
    let text = """
      name: net
      layers:
        - CONV3-10
        - {op: ü, k: [1, 22]}
      é: x
      """
    let root = try #require(try read(text))
    #expect(root.range.start == at(1, 1))
    let name = try #require(root.mapping?.first)
    #expect(name.key.range.start == at(1, 1))
    #expect(name.key.range.end == at(1, 5))
    #expect(name.value.range.start == at(1, 7))
    #expect(name.value.range.end == at(1, 10))
    let layers = try #require(value(root, "layers")?.sequence)
    #expect(layers[0].range.start == at(3, 5))
    #expect(layers[0].range.end == at(3, 13))
    #expect(layers[1].range.start == at(4, 5))
    #expect(layers[1].range.end == at(4, 24))
    #expect(value(layers[1], "op")?.range.start == at(4, 10))
    let k = try #require(value(layers[1], "k")?.sequence)
    #expect(k[1].range.start == at(4, 20))
    #expect(k[1].range.end == at(4, 22))
    let last = try #require(root.mapping?.last)
    #expect(last.key.scalar == "é")
    #expect(last.value.range.start == at(5, 4))
  }

  @Test("CRLF line breaks count as one")
  func crlf() throws {
    let root = try read("a: 1\r\nb: [x, y]\r\n")
    #expect(value(root, "b")?.sequence?[1].range.start == at(2, 8))
    let d = try diagnostic("a:\r\n  b: 1\r\n\tc: 2\r\n")
    #expect(d.range?.start == at(3, 1))
    #expect(d.notes.contains { $0.message.contains("tabs") })
  }

  @Test("a block collection ends where its last child ends")
  func blockCollectionRange() throws {
    let root = try #require(try read("a:\n  - x\n  - yy\nb: 1\n"))
    let a = try #require(value(root, "a"))
    #expect(a.range.start == at(2, 3))
    #expect(a.range.end == at(3, 7))
    #expect(root.range.end == at(4, 5))
  }

  @Test("an alias has its own range; its content is the anchor's, shared")
  func aliasSharing() throws {
    let root = try read("base: &b [1, {k: v}]\ncopy: *b\nagain: *b\n")
    let base = try #require(value(root, "base"))
    let copy = try #require(value(root, "copy"))
    let again = try #require(value(root, "again"))
    #expect(base.range.start == at(1, 7))
    #expect(copy.range.start == at(2, 7))
    #expect(copy.range.end == at(2, 9))
    #expect(again.range.start == at(3, 8))
    let baseItems = try #require(base.sequence)
    let copyItems = try #require(copy.sequence)
    #expect(copyItems.count == 2)
    #expect(copyItems[0] === baseItems[0])
    #expect(copyItems[1] === baseItems[1])
    #expect(again.sequence?[1] === baseItems[1])
    #expect(copy.expandedSize == base.expandedSize)
    // The root, its three keys, and the anchored list once for itself and once per alias.
    #expect(base.expandedSize == 5)
    #expect(root?.expandedSize == 1 + 3 + 3 * base.expandedSize)
  }

  @Test("an anchored scalar and a redefined anchor")
  func scalarAnchors() throws {
    let root = try read("a: &x one\nb: *x\nc: &x two\nd: *x\n")
    #expect(flat(root) == ["a=one", "b=one", "c=two", "d=two"])
  }

  // MARK: - Merge keys

  @Test("a merge key brings in the pairs of a mapping; own keys win")
  func mergeOne() throws {
    let text = """
      base: &base {stride: 1, pad: 0}
      conv:
        <<: *base
        pad: 2
      """
    let root = try read(text)
    let conv = try #require(value(root, "conv"))
    #expect(flat(conv) == ["stride=1", "pad=2"])
    // A merged pair keeps the range where it was written.
    let stride = try #require(conv.mapping?.first)
    #expect(stride.key.range.start == at(1, 14))
    #expect(value(conv, "pad")?.range.start == at(4, 8))
  }

  @Test("with a list of merges, earlier mappings win over later ones")
  func mergeList() throws {
    let text = """
      a: &a {x: a, y: a}
      b: &b {y: b, z: b}
      m:
        w: own
        <<: [*a, *b]
        z: own
      """
    let m = try #require(value(try read(text), "m"))
    #expect(flat(m) == ["w=own", "x=a", "y=a", "z=own"])
  }

  @Test("a merge of an inline mapping, and a quoted `<<` that is a plain key")
  func mergeInlineAndQuoted() throws {
    #expect(flat(value(try read("m: {<<: {a: 1}, b: 2}"), "m")) == ["a=1", "b=2"])
    #expect(keys(value(try read("m: {'<<': {a: 1}}"), "m")) == ["<<"])
    #expect(keys(value(try read("m: {'<<': x}"), "m")) == ["<<"])
  }

  @Test("a merge key takes only mappings", arguments: ["m: {<<: 3}", "m: {<<: [{a: 1}, 3]}"])
  func mergeOfScalar(input: String) throws {
    let d = try diagnostic(input)
    #expect(d.code == .wrongType)
    #expect(d.message.contains("merge key `<<`"))
  }

  // MARK: - Key errors

  @Test("a duplicate key is an error at the second, with a note at the first")
  func duplicateKey() throws {
    let d = try diagnostic("name: a\ninput: 8\nname: b\n")
    #expect(d.code == .duplicateKey)
    #expect(d.message == "duplicate key `name`")
    #expect(d.range?.start == at(3, 1))
    #expect(d.range?.end == at(3, 5))
    #expect(d.notes.count == 1)
    #expect(d.notes.first?.range?.start == at(1, 1))
  }

  @Test("every duplicate is reported, in nested and flow mappings too")
  func duplicateKeysAll() {
    let all = diagnostics("a: {x: 1, x: 2}\nb:\n  y: 1\n  'y': 2\na: 3\n")
    #expect(all.map(\.code) == [.duplicateKey, .duplicateKey, .duplicateKey])
    #expect(all.map { $0.range?.start } == [at(1, 11), at(4, 3), at(5, 1)])
  }

  @Test(
    "a key must be a scalar",
    arguments: [
      ("? [a, b]\n: c\n", "a list"),
      ("{? {a: 1} : c}", "a mapping"),
    ])
  func nonScalarKey(input: String, kind: String) throws {
    let d = try diagnostic(input)
    #expect(d.code == .wrongType)
    #expect(d.message == "a mapping key must be a scalar, not \(kind)")
  }

  // MARK: - Syntax errors

  @Test(
    "syntax errors point at the problem, with libyaml's context as a note",
    arguments: [
      ("layers: [CONV3-10, RELU\n", at(2, 1), "did not find expected ',' or ']'", at(1, 9)),
      ("a:\n  b: 1\n c: 2\n", at(3, 2), "did not find expected key", at(1, 1)),
      ("a: 'open\n", at(2, 1), "found unexpected end of stream", at(1, 4)),
      ("a: {b: 1\n", at(2, 1), "did not find expected ',' or '}'", at(1, 4)),
    ])
  func syntaxErrors(
    input: String, location: NetcDiagnostics.SourceLocation, message: String,
    context: NetcDiagnostics.SourceLocation
  ) throws {
    let d = try diagnostic(input)
    #expect(d.code == .yamlSyntax)
    #expect(d.message == message)
    #expect(d.range?.start == location)
    #expect(d.range?.file == "t.yaml")
    #expect(d.notes.first?.message.hasPrefix("while ") == true)
    #expect(d.notes.first?.range?.start == context)
  }

  @Test("a tab in the indentation gets a hint", arguments: ["a:\n\tb: 1\n", "a:\n  b: 1\n\tc: 2\n"])
  func tabHint(input: String) throws {
    let d = try diagnostic(input)
    #expect(d.code == .yamlSyntax)
    #expect(d.range?.start.column == 1)
    #expect(d.notes.contains { $0.message == "YAML does not allow tabs for indentation; use spaces" })
  }

  @Test("an error not at a tab gets no tab hint")
  func noTabHint() throws {
    let d = try diagnostic("a: [1\n")
    #expect(!d.notes.contains { $0.message.contains("tab") })
  }

  @Test("control characters are reported at their place")
  func controlCharacter() throws {
    let d = try diagnostic("a: 1\nb: x\u{7}\n")
    #expect(d.code == .yamlSyntax)
    #expect(d.message == "control characters are not allowed (U+0007)")
    #expect(d.range?.start == at(2, 5))
  }

  @Test(
    "a second document is an error at its start",
    arguments: [
      ("a: 1\n---\nb: 2\n", at(2, 1)),
      ("--- 1\n--- 2\n", at(2, 1)),
      ("a: 1\n...\n---\nb: 2\n", at(3, 1)),
    ])
  func multipleDocuments(input: String, location: NetcDiagnostics.SourceLocation) throws {
    let d = try diagnostic(input)
    #expect(d.code == .yamlSyntax)
    #expect(d.message == "a spec file holds one YAML document")
    #expect(d.range?.start == location)
  }

  @Test("an unknown alias is an error at the alias")
  func unknownAlias() throws {
    let d = try diagnostic("a: 1\nb: *nowhere\n")
    #expect(d.code == .yamlSyntax)
    #expect(d.message == "unknown alias `*nowhere`")
    #expect(d.range?.start == at(2, 4))
    #expect(d.range?.end == at(2, 12))
  }

  @Test("an alias before its anchor is unknown; one inside its anchor is a cycle")
  func aliasOrder() throws {
    #expect(try diagnostic("a: *x\nb: &x 1\n").message == "unknown alias `*x`")
    let cycle = try diagnostic("a: &x [1, *x]\n")
    #expect(cycle.message == "alias `*x` refers to a node that contains it")
    #expect(cycle.range?.start == at(1, 11))
  }

  // MARK: - Limits

  @Test("a billion-laughs alias bomb fails at the alias that crosses the limit")
  func aliasBomb() throws {
    var text = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for level in 1...9 {
      let aliases = Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ")
      text += "l\(level): &l\(level) [\(aliases)]\n"
    }
    #expect(text.utf8.count < 700)
    let d = try diagnostic(text)
    #expect(d.code == .expansionLimit)
    #expect(d.message == "aliases expand this document to more than 4000000 nodes")
    // Levels 0-5 hold about 672,000 nodes and each `*l5` adds 597,871: the sixth `*l5`
    // (line 7) crosses 4,000,000, long before level 9's billion.
    #expect(d.range?.start == at(7, 35))
    #expect(d.notes.first?.message == "each `*l5` repeats the 597871 nodes anchored here")
    #expect(d.notes.first?.range?.start == at(6, 5))
  }

  @Test("the expansion limit counts every node, aliases expanded", arguments: [(9, true), (8, false)])
  func expansionLimitEdge(limit: Int, fits: Bool) throws {
    // Root, `a`, the list and its two items, `b`: 6 nodes; the alias adds the list's 3 again.
    let text = "a: &x [1, 2]\nb: *x\n"
    let limits = YAMLLimits(maxExpandedNodes: limit)
    if fits {
      #expect(try read(text, limits: limits)?.expandedSize == 9)
    } else {
      #expect(try diagnostic(text, limits: limits).range?.start == at(2, 4))
    }
  }

  @Test("a document of too many plain nodes fails at the node that crosses")
  func tooManyNodes() throws {
    let d = try diagnostic("[1, 2, 3, 4, 5]", limits: YAMLLimits(maxExpandedNodes: 4))
    #expect(d.code == .expansionLimit)
    #expect(d.message == "this document has more than 4 nodes")
    #expect(d.range?.start == at(1, 11))
  }

  @Test("10,000 levels of nesting fail at level 201, without overflowing the stack")
  func deepNesting() throws {
    let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
    let d = try diagnostic(text)
    #expect(d.code == .nestingLimit)
    #expect(d.message == "nesting deeper than 200 levels")
    #expect(d.range?.start == at(1, 201))
  }

  @Test("nesting up to the limit is fine", arguments: [(5, true), (6, false)])
  func nestingEdge(depth: Int, fits: Bool) throws {
    let block = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    let limits = YAMLLimits(maxDepth: 5)
    if fits {
      #expect(try read(block, limits: limits) != nil)
    } else {
      #expect(try diagnostic(block, limits: limits).range?.start == at(1, 6))
    }
  }

  @Test("a scalar longer than the limit is an error at the scalar")
  func longScalar() throws {
    let long = String(repeating: "x", count: (1 << 16) + 1)
    let d = try diagnostic("a: 1\nb: \(long)\n")
    #expect(d.code == .sizeLimit)
    #expect(d.message == "scalar of 65537 bytes is longer than the 65536 bytes netc accepts")
    #expect(d.range?.start == at(2, 4))
    #expect(try read("b: \(String(repeating: "x", count: 1 << 16))")?.mapping?.count == 1)
  }

  @Test("160,000 anchors and aliases read without error")
  func manyAnchors() throws {
    var text = "items:\n"
    text.reserveCapacity(160_000 * 30)
    for index in 0..<80_000 {
      text += "  - &a\(index) {k: \(index)}\n  - *a\(index)\n"
    }
    let items = try #require(value(try read(text), "items")?.sequence)
    #expect(items.count == 160_000)
    #expect(items[159_999].mapping?[0].value === items[159_998].mapping?[0].value)
  }
}
