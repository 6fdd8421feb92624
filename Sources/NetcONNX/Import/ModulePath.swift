/// The dotted path of the PyTorch module (or other source) an ONNX node came from, as
/// the exporters record it: the weight's name (`layer1.0.conv1.weight`), the dynamo
/// exporter's `namespace` metadata (`: ResNet/layer1: Sequential/layer1.0: BasicBlock/...`),
/// the TorchScript exporter's scoped node name (`/layer1/layer1.0/conv1/Conv`; any name
/// with a `/` is read as a scope and its op), or the node's own name from other tools.
enum ModulePath {
  static func of(_ node: Onnx_NodeProto, weight: String?) -> String? {
    if let w = weight, w.hasSuffix(".weight"), !w.contains("::"), !w.contains("/") {
      return String(w.dropLast(".weight".count))
    }
    if let ns = node.metadataProps.first(where: { $0.key == "namespace" })?.value {
      // Each segment is `name: class`; the first is the root module, the last the op.
      let segments = ns.split(separator: "/").map {
        $0.split(separator: ":", omittingEmptySubsequences: false).first.map { String($0).trimmed } ?? ""
      }
      if segments.count > 2 { return join(Array(segments.dropFirst().dropLast())) }
      if segments.count == 2 { return nil }
    }
    let name = node.name
    if name.contains("/") {
      let parts = name.split(separator: "/").map(String.init)
      return parts.count > 1 ? join(Array(parts.dropLast())) : nil
    }
    return name.isEmpty ? nil : name
  }

  /// Scope components joined into one path: a component that already spells the one
  /// before it (`layer1.0` after `layer1`, `downsample.0` after `downsample`) replaces it.
  static func join(_ parts: [String]) -> String? {
    var components: [String] = []
    for p in parts where !p.isEmpty {
      if let last = components.last, p.hasPrefix(last + ".") {
        components[components.count - 1] = p
      } else {
        components.append(p)
      }
    }
    return components.isEmpty ? nil : components.joined(separator: ".")
  }

  /// Module paths without what every layer's shares (a wrapper's `model.`) and without
  /// the embedding's parent (transformers' `transformer.`, `bert.embeddings.`), so that
  /// the names are the ones a person writes: `wte`, `h`, `ln_f`, `lm_head`.
  static func shorten(_ layers: inout [ImportedLayer]) {
    let paths = layers.dropFirst().compactMap { $0.modulePath?.split(separator: ".").map(String.init) }
    guard var common = paths.first else { return }
    for p in paths.dropFirst() {
      var k = 0
      while k < min(common.count, p.count - 1) && common[k] == p[k] { k += 1 }
      common = Array(common.prefix(k))
    }
    func strip(_ prefix: [String]) {
      guard !prefix.isEmpty else { return }
      let dotted = prefix.joined(separator: ".") + "."
      for i in layers.indices {
        if let m = layers[i].modulePath, m.hasPrefix(dotted) { layers[i].modulePath = String(m.dropFirst(dotted.count)) }
      }
    }
    strip(common)
    if let embed = layers.first(where: { $0.op == .embed })?.modulePath?.split(separator: "."), embed.count >= 2 {
      strip(embed.dropLast().map(String.init))
    }
  }

  /// The module paths of netc's own export as the spec's names: netc names a structure's
  /// merge `NAME.add` (`.concat`, `.mul`) and its layers `NAME.body.LAYER` (`.shortcut.`,
  /// `.branchK.`); the structure is `NAME` and its layers `NAME.LAYER`, so that a round trip
  /// gives back the names the spec wrote (and leaves netc's defaults out).
  static func fromNetc(_ layers: inout [ImportedLayer]) {
    for i in layers.indices {
      guard var parts = layers[i].modulePath?.split(separator: ".").map(String.init) else { continue }
      if layers[i].isMerge, let last = parts.last, ["add", "concat", "mul"].contains(last), parts.count > 1 { parts.removeLast() }
      parts.removeAll { p in
        p == "body" || p == "shortcut" || p.hasPrefix("branch") && p.count > 6 && p.dropFirst(6).allSatisfy(\.isNumber)
      }
      layers[i].modulePath = parts.isEmpty ? nil : parts.joined(separator: ".")
    }
  }

  /// A netc layer name for `path` inside the structure whose module is `scope`: the part
  /// after the scope's path, with every character netc's names do not allow (dots
  /// included: they separate netc's scopes) as `_`.
  static func localName(_ path: String, in scope: String?) -> String {
    var rest = Substring(path)
    if let scope, path.hasPrefix(scope + ".") { rest = rest.dropFirst(scope.count + 1) }
    var out = ""
    for u in rest.unicodeScalars.prefix(120) {
      let ok = u.isASCII && (u.properties.isAlphabetic || u.properties.numericType != nil || u == "_" || u == "-")
      out.unicodeScalars.append(ok ? u : "_")
    }
    return out
  }
}

extension String {
  fileprivate var trimmed: String {
    String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
  }
}
