import NetcDiagnostics
import NetcIR

/// Lexes and parses the shorthand of one layer: `CONV3-20 stride 2 pad 3 -> 6x6x20`.
/// Every word keeps its column, so a message can point inside the string.
enum LayerShorthand {
  /// A whitespace-separated word split at its commas: `2,1` gives two pieces.
  struct Word {
    var pieces: [(text: String, offset: Int)]
    var offset: Int
    var length: Int
    var text: String { pieces.map(\.text).joined(separator: ",") }
  }

  /// Words standing for an option with its value.
  static let flags: [String: (key: String, value: String)] = [
    "same": ("pad", "same"), "valid": ("pad", "valid"), "ceil": ("round", "ceil"),
    "floor": ("round", "floor"), "nobias": ("bias", "false"), "tanh": ("approx", "tanh"),
    "sinusoidal": ("kind", "sinusoidal"), "learned": ("kind", "learned"), "nearest": ("mode", "nearest"),
    "bilinear": ("mode", "bilinear"),
  ]

  /// Whether `word` starts another option of `op`: after a bare boolean key (`causal`),
  /// which then means `true`; any other word is the key's value (`bias maybe` is a bad
  /// value, not a flag and an unknown option).
  static func isOptionWord(_ word: String, of op: LayerOp) -> Bool {
    word == "name" || op.options.contains(word) || flags[word].map { op.options.contains($0.key) } == true
  }

  /// Parses `text`, whose first character is at `start`.
  static func parse(_ text: String, at start: SourceRange) throws(DiagnosticError) -> LayerDecl {
    let scalars = Array(text.unicodeScalars)
    func range(_ offset: Int, _ length: Int) -> SourceRange {
      start.slice(offset: offset, length: max(1, length))
    }
    func fail(_ code: DiagnosticCode, _ message: String, _ offset: Int, _ length: Int, notes: [Diagnostic.Note] = []) -> DiagnosticError {
      DiagnosticError([.error(code, message, at: range(offset, length), notes: notes)])
    }

    // The arrow splits the layer from its asserted shape; `${...}` never holds one.
    var layerEnd = scalars.count
    var arrowAt: Int?
    var braces = 0
    var i = 0
    while i < scalars.count {
      if scalars[i] == "$", i + 1 < scalars.count, scalars[i + 1] == "{" {
        braces += 1
      } else if scalars[i] == "}", braces > 0 {
        braces -= 1
      } else if braces == 0, scalars[i] == "-", i + 1 < scalars.count, scalars[i + 1] == ">" {
        arrowAt = i
        layerEnd = i
        break
      }
      i += 1
    }
    if braces > 0 { throw fail(.shorthandSyntax, "unclosed `${`", 0, scalars.count) }

    let words = try lex(scalars, upTo: layerEnd, range: range)
    guard let head = words.first else {
      throw fail(.shorthandSyntax, "expected a layer such as `CONV3-20` or `RELU`", 0, scalars.count)
    }
    var decl = try parseHead(head, scalars: scalars, range: range)
    decl.range = range(0, scalars.count)

    var k = 1
    while k < words.count {
      let word = words[k]
      let key = word.text.lowercased()
      k += 1
      let entry: OptionEntry
      if let flag = flags[key], !decl.op.options.contains(key) {
        guard decl.op.options.contains(flag.key) else {
          throw unknownOption(key, of: decl.op, at: range(word.offset, word.length))
        }
        entry = OptionEntry(
          key: flag.key, keyRange: range(word.offset, word.length),
          items: [ValueItem(text: flag.value, range: range(word.offset, word.length))])
      } else if let option = OptionKey(rawValue: key), option.valueKind == .boolean, decl.op.optionKeys.contains(option),
        k >= words.count || isOptionWord(words[k].text.lowercased(), of: decl.op)
      {
        entry = OptionEntry(
          key: key, keyRange: range(word.offset, word.length), items: [ValueItem(text: "true", range: range(word.offset, word.length))])
      } else {
        guard key == "name" || decl.op.options.contains(key) else {
          throw unknownOption(key, of: decl.op, at: range(word.offset, word.length))
        }
        guard k < words.count else {
          throw fail(.shorthandSyntax, "option `\(key)` needs a value", word.offset, word.length)
        }
        let value = words[k]
        k += 1
        entry = OptionEntry(
          key: key, keyRange: range(word.offset, word.length),
          items: value.pieces.map { ValueItem(text: $0.text, range: range($0.offset, $0.text.unicodeScalars.count)) })
      }
      if let first = decl.option(entry.key) {
        throw DiagnosticError([
          .error(
            .repeatedOption, "option `\(entry.key)` is given twice", at: entry.keyRange,
            notes: [.init("first given here", at: first.keyRange)])
        ])
      }
      decl.options.append(entry)
    }

    if let arrowAt {
      var s = arrowAt + 2
      while s < scalars.count, scalars[s] == " " { s += 1 }
      var e = scalars.count
      while e > s, scalars[e - 1] == " " { e -= 1 }
      guard e > s else { throw fail(.shorthandSyntax, "expected a shape after `->`, such as `6x6x20`", arrowAt, 2) }
      decl.expect = ValueItem(text: String(String.UnicodeScalarView(scalars[s..<e])), range: range(s, e - s))
    }
    return decl
  }

  /// The error for an option the op does not take, naming the ones it does.
  static func unknownOption(_ key: String, of op: LayerOp, at range: SourceRange) -> DiagnosticError {
    let accepted = op.options + ["name"]
    var notes = [Diagnostic.Note("\(op.name.uppercased()) accepts \(accepted.map { "`\($0)`" }.joined(separator: ", "))")]
    if let guess = closestMatch(to: key, in: accepted) { notes.insert(.init("did you mean `\(guess)`?", at: range), at: 0) }
    return DiagnosticError([.error(.unknownOption, "unknown option `\(key)` for \(op.name.uppercased())", at: range, notes: notes)])
  }

  private static func lex(
    _ s: [Unicode.Scalar], upTo end: Int, range: (Int, Int) -> SourceRange
  ) throws(DiagnosticError) -> [Word] {
    var words: [Word] = []
    var i = 0
    while i < end {
      if s[i] == " " || s[i] == "\t" || s[i] == "\n" { i += 1; continue }
      let start = i
      var pieces: [(String, Int)] = []
      var pieceStart = i
      var depth = 0
      while i < end {
        let c = s[i]
        if c == "$", i + 1 < end, s[i + 1] == "{" { depth += 1; i += 2; continue }
        if c == "}", depth > 0 { depth -= 1; i += 1; continue }
        if depth == 0, c == " " || c == "\t" || c == "\n" {
          // `2, 1` and `2 ,1` are one value: a comma joins across spaces.
          // Every blank the word breaks at is skipped here, or `,` then a newline (a folded
          // multi-line YAML string) would leave `i` in place forever (found by fuzzing).
          var j = i
          while j < end, s[j] == " " || s[j] == "\t" || s[j] == "\n" { j += 1 }
          let prevComma = i > start && s[i - 1] == ","
          let nextComma = j < end && s[j] == ","
          if (prevComma || nextComma) && j < end { i = j; continue }
          break
        }
        if depth == 0, c == "," {
          pieces.append((trimmed(s, pieceStart, i), pieceStart))
          i += 1
          while i < end, s[i] == " " || s[i] == "\t" || s[i] == "\n" { i += 1 }
          pieceStart = i
          continue
        }
        i += 1
      }
      pieces.append((trimmed(s, pieceStart, i), pieceStart))
      if pieces.contains(where: { $0.0.isEmpty }) {
        throw DiagnosticError([.error(.shorthandSyntax, "empty value between commas", at: range(start, i - start))])
      }
      words.append(Word(pieces: pieces.map { (text: $0.0, offset: $0.1) }, offset: start, length: i - start))
    }
    return words
  }

  private static func trimmed(_ s: [Unicode.Scalar], _ a: Int, _ b: Int) -> String {
    var e = b
    while e > a, s[e - 1] == " " || s[e - 1] == "\t" { e -= 1 }
    return String(String.UnicodeScalarView(s[a..<e]))
  }

  private static func parseHead(
    _ head: Word, scalars: [Unicode.Scalar], range: (Int, Int) -> SourceRange
  ) throws(DiagnosticError) -> LayerDecl {
    let text = Array(head.text.unicodeScalars)
    let lower = head.text.lowercased()
    var matched: LayerOp?
    var nameLength = 0
    for spelling in LayerOp.spellingsLongestFirst where lower.hasPrefix(spelling) {
      let n = spelling.unicodeScalars.count
      if n < text.count, text[n].properties.isAlphabetic { continue }
      matched = LayerOp.byName[spelling]
      nameLength = n
      break
    }
    guard let op = matched else {
      var n = 0
      while n < text.count, text[n].properties.isAlphabetic || text[n] == "_" { n += 1 }
      let word = n > 0 ? String(String.UnicodeScalarView(text[0..<n])) : head.text
      var notes: [Diagnostic.Note] = []
      if let guess = closestMatch(to: word, in: LayerOp.all.map(\.name)) {
        notes.append(.init("did you mean `\(guess.uppercased())`?", at: range(head.offset, max(n, 1))))
      } else {
        notes.append(.init("layer kinds are \(LayerOp.all.map { $0.name.uppercased() }.joined(separator: ", "))"))
      }
      throw DiagnosticError([
        .error(.unknownOp, "unknown layer kind `\(word)`", at: range(head.offset, max(n, 1)), notes: notes)
      ])
    }
    let headRange = range(head.offset, head.length)
    var decl = LayerDecl(op: op, range: headRange, headRange: headRange)
    var p = nameLength
    let upper = op.name.uppercased()

    func fail(_ message: String, _ at: Int, _ length: Int) -> DiagnosticError {
      DiagnosticError([.error(.shorthandSyntax, message, at: range(head.offset + at, max(1, length)))])
    }
    // One extent: digits, `$name` or `${...}`; `what` names it in messages.
    func extent(_ what: String) throws(DiagnosticError) -> ValueItem? {
      let s = p
      guard p < text.count else { return nil }
      if text[p] == "$" {
        if p + 1 < text.count, text[p + 1] == "{" {
          guard let close = text[p...].firstIndex(of: "}") else { throw fail("unclosed `${`", p, text.count - p) }
          p = close + 1
        } else {
          p += 1
          while p < text.count, IntegerExpression.isNameScalar(text[p], first: p == s + 1) { p += 1 }
          if p == s + 1 { throw fail("expected a name after `$`", s, 1) }
        }
      } else if text[p].isASCII, text[p].properties.numericType != nil {
        while p < text.count, text[p].isASCII, text[p].properties.numericType != nil { p += 1 }
        // `CONV3.5-16`: the fraction belongs to this extent; left for later, it would read
        // as a missing count.
        if p + 1 < text.count, text[p] == ".", text[p + 1].isASCII, text[p + 1].properties.numericType != nil {
          var e = p + 1
          while e < text.count, text[e].isASCII, text[e].properties.numericType != nil { e += 1 }
          let number = String(String.UnicodeScalarView(text[s..<e]))
          throw DiagnosticError([
            .error(.invalidValue, "\(what) must be a whole number, got `\(number)`", at: range(head.offset + s, e - s))
          ])
        }
      } else {
        return nil
      }
      return ValueItem(text: String(String.UnicodeScalarView(text[s..<p])), range: range(head.offset + s, p - s))
    }

    if op.kernel != .none {
      if op.count == .none, p < text.count, text[p] == "-" { p += 1 }
      if let first = try extent("a kernel extent") {
        decl.kernel.append(first)
        while p < text.count, text[p] == "x" || text[p] == "X" || text[p] == "×" {
          p += 1
          guard let next = try extent("a kernel extent") else { throw fail("expected a kernel extent after `x`", p, 1) }
          decl.kernel.append(next)
        }
      } else if op.kernel == .required {
        let example = op.count == .none ? "\(upper)-2 or \(upper)2" : "\(upper)3-\(op.name == "conv" ? "20" : "64")"
        throw fail("\(upper) needs a kernel size, as in `\(example)`", 0, head.length)
      }
    }
    if p < text.count, text[p] == "-" {
      guard op.count != .none else { throw fail("\(upper) takes no count after `-`", p, text.count - p) }
      p += 1
      guard let count = try extent("the number of \(op.countName)") else {
        throw fail("expected the number of \(op.countName) after `-`", p, 1)
      }
      decl.count = count
    } else if op.count == .required {
      let example = op.kernel == .none ? "\(upper)-10" : "\(upper)3-20"
      if p < text.count, op.kernel == .none, text[p].isASCII, text[p].properties.numericType != nil {
        throw fail("\(upper) takes no kernel; write the \(op.countName) after `-`, as in `\(example)`", p, text.count - p)
      }
      throw fail("\(upper) needs the number of \(op.countName), as in `\(example)`", 0, head.length)
    }
    if p < text.count {
      throw fail("unexpected `\(String(String.UnicodeScalarView(text[p...])))` after \(upper)", p, text.count - p)
    }
    return decl
  }
}
