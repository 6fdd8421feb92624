/// One generated class before classes alike are merged.
struct ClassRecord {
  var name: String
  var doc: String
  /// `__init__`'s lines after `super().__init__()`.
  var setup: [String]
  /// `def forward(...)` and its lines.
  var forward: [String]
}

/// Merges classes that differ only in the integers their `__init__` passes to layers
/// (ResNet's basic blocks of 64, 128, 256 and 512 channels) into one class whose
/// constructor takes those integers, as a person writes `BasicBlock(inplanes, planes)`.
/// Integers equal in every instance stay literals; integers that vary together share one
/// argument, named after where it is first used (`in_channels`, `stride`).
struct ClassTemplates {
  /// A line of `__init__` as text and integer literals; a call of a merged class carries
  /// every literal of its instance, of which rendering keeps the ones its class takes.
  enum Piece: Equatable {
    case text(String)
    case literal(Int, role: String)
    case call(group: Int)
  }

  struct Group {
    var key: String
    var record: ClassRecord
    var pieces: [[Piece]]
    var instances: [[Int]] = []
    var names: [String] = []
    /// Per literal position, the argument it is, or nil for a constant.
    var parameter: [Int?] = []
    var parameterNames: [String] = []
  }

  private(set) var groups: [Group] = []
  private var groupOf: [String: (group: Int, literals: [Int])] = [:]

  mutating func add(_ record: ClassRecord) {
    var literals: [Int] = []
    let pieces = record.setup.map { tokenize($0, &literals) }
    let key =
      record.doc + "\n" + pieces.map { line in line.map(Self.keyText).joined() }.joined(separator: "\n") + "\n"
      + record.forward.joined(separator: "\n")
    let g: Int
    if let existing = groups.firstIndex(where: { $0.key == key }) {
      g = existing
    } else {
      groups.append(Group(key: key, record: record, pieces: pieces))
      g = groups.count - 1
    }
    groups[g].instances.append(literals)
    groups[g].names.append(record.name)
    groupOf[record.name] = (g, literals)
  }

  static func keyText(_ p: Piece) -> String {
    switch p {
    case .text(let s): s
    case .literal: "#"
    case .call(let g): "<\(g)>"
    }
  }

  /// Splits a line into text, integer literals (with the role their position suggests)
  /// and calls of earlier classes, whose instance literals are appended inline.
  func tokenize(_ line: String, _ literals: inout [Int]) -> [Piece] {
    var out: [Piece] = []
    var text = ""
    let chars = Array(line)
    var i = 0
    var callees: [(name: String, args: Int)] = []
    var word = "", keyword = ""
    func flush() {
      if !text.isEmpty { out.append(.text(text)) }
      text = ""
    }
    while i < chars.count {
      let c = chars[i]
      if c.isNumber, i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber || "_.-".contains(chars[i - 1])) {
        var j = i
        while j < chars.count, chars[j].isNumber { j += 1 }
        if j == chars.count || !(chars[j].isLetter || chars[j] == "_" || chars[j] == ".") {
          flush()
          let role = keyword.isEmpty ? Self.role(callees.last?.name ?? "", callees.last?.args ?? 0) : keyword
          let value = Int(String(chars[i..<j])) ?? 0
          out.append(.literal(value, role: role))
          literals.append(value)
          keyword = ""
          i = j
          continue
        }
      }
      if c == "(" {
        if let (g, inner) = groupOf[word], i + 1 < chars.count, chars[i + 1] == ")" {
          // `Name()` of an earlier class: its literals become this line's.
          text.removeLast(word.count)
          flush()
          out.append(.call(group: g))
          literals += inner
          i += 2
          word = ""
          continue
        }
        callees.append((word, 0))
        keyword = ""
      } else if c == ")" {
        if !callees.isEmpty { callees.removeLast() }
      } else if c == "," {
        if !callees.isEmpty { callees[callees.count - 1].args += 1 }
        keyword = ""
      } else if c == "=" {
        keyword = word
      }
      if c.isLetter || c.isNumber || c == "_" || c == "." { word.append(c) } else if c != " " { word = "" }
      text.append(c)
      i += 1
    }
    flush()
    return out
  }

  /// An argument's name from the call it is passed to.
  static func role(_ callee: String, _ index: Int) -> String {
    let name = callee.split(separator: ".").last.map(String.init) ?? ""
    switch name {
    case _ where name.hasPrefix("Conv"): return ["in_channels", "out_channels", "kernel_size"][min(index, 2)]
    case "Linear": return index == 0 ? "in_features" : "out_features"
    case "Embedding": return index == 0 ? "rows" : "width"
    case "Attention": return index == 0 ? "width" : "heads"
    case "range": return "depth"
    default: return name.hasSuffix("Norm") || name.hasPrefix("BatchNorm") || name == "ones" ? "channels" : "size"
    }
  }

  /// Decides each group's arguments: the literal positions whose values differ between
  /// instances, one argument per distinct column of values.
  mutating func decide() {
    for g in groups.indices {
      let instances = groups[g].instances
      let count = instances[0].count
      var columns: [[Int]] = []
      var parameter: [Int?] = []
      var names: [String] = []
      let roles = groups[g].pieces.flatMap { line in
        line.flatMap { p -> [String] in
          switch p {
          case .literal(_, let role): [role]
          case .call(let inner): groups[inner].parameter.map { $0.map { groups[inner].parameterNames[$0] } ?? "size" }
          case .text: []
          }
        }
      }
      for p in 0..<count {
        let column = instances.map { $0[p] }
        if Set(column).count == 1 {
          parameter.append(nil)
        } else if let j = columns.firstIndex(of: column) {
          parameter.append(j)
        } else {
          columns.append(column)
          var n = p < roles.count ? roles[p] : "size", k = 2
          while names.contains(n) {
            n = (p < roles.count ? roles[p] : "size") + "_\(k)"
            k += 1
          }
          names.append(n)
          parameter.append(columns.count - 1)
        }
      }
      groups[g].parameter = parameter
      groups[g].parameterNames = names
    }
  }

  /// Each group's class name: a merged class drops its first instance's number (`Basic1`
  /// and `Basic2` are `Basic`) unless another class has that name.
  func finalNames() -> [String] {
    var taken = Set(groups.map { $0.names[0] })
    return groups.map { group in
      let name = group.names[0]
      guard group.instances.count > 1 else { return name }
      var stem = Substring(name)
      while let last = stem.last, last.isNumber || last == "_" { stem = stem.dropLast() }
      guard !stem.isEmpty, !taken.contains(String(stem)) else { return name }
      taken.insert(String(stem))
      return String(stem)
    }
  }

  /// Every class's source, merged classes once, in the order of their first instance.
  func sources() -> [String] {
    let names = finalNames()
    return groups.indices.map { g in
      let group = groups[g]
      var position = 0
      let first = group.instances[0]
      func value(_ p: Int) -> String {
        group.parameter[p].map { group.parameterNames[$0] } ?? String(first[p])
      }
      let setup = group.pieces.map { line in
        line.map { piece -> String in
          switch piece {
          case .text(let s): return s
          case .literal:
            defer { position += 1 }
            return value(position)
          case .call(let inner):
            let callee = groups[inner]
            let start = position
            position += callee.instances[0].count
            let args = callee.parameterNames.indices.map { j in value(start + callee.parameter.firstIndex { $0 == j }!) }
            return names[inner] + "(" + args.joined(separator: ", ") + ")"
          }
        }.joined()
      }
      let r = group.record
      var text = "class \(names[g])(nn.Module):\n    \"\"\"\(r.doc)\"\"\"\n\n"
      text += "    def __init__(self\(group.parameterNames.map { ", " + $0 }.joined())):\n        super().__init__()\n"
      text += setup.map { "        \($0)\n" }.joined()
      text += "\n" + r.forward.map { "    \($0)\n" }.joined()
      return text
    }
  }
}
