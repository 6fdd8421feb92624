import NetcDiagnostics

extension ONNXLayerRecognizer {
  /// Recognizes `n`, or, when netc cannot import it, lists it and blocks its outputs, so
  /// that the nodes reading them are listed too. A file that is no valid model (NS601)
  /// is still an error.
  mutating func recognizeOrLeaveOut(_ n: Onnx_NodeProto) throws(DiagnosticError) {
    // A loop, not a closure over a copy of `blocked`: leaveOut's write would copy it per node.
    var reads: (tensor: String, origin: String)?
    for i in n.input { if let o = blocked[i] { reads = (i, o); break } }
    if let (tensor, origin) = reads {
      let via = tensor == origin ? "" : " (`\(tensor.prefix(80))`)"
      leaveOut(n, "reads the output\(via) of `\(origin.prefix(80))`, which is not imported")
      return
    }
    guard Self.imports(n) else {
      let type = n.domain.isEmpty ? n.opType : "\(n.domain).\(n.opType)"
      leaveOut(n, "has op type `\(type.prefix(60))`, which netc does not import")
      return
    }
    do { try recognize(n) } catch {
      guard error.diagnostics.allSatisfy({ $0.code == .onnxUnsupported }) else { throw error }
      // Layers the node made before it failed stay: a pending projection or attention
      // made a layer on being read is one whatever reads it (`built` and `values` name
      // it), and one that nothing else reads is listed as not on the output's path.
      let message = error.diagnostics.first?.message ?? "is not imported"
      let prefix = "`\(path)`: node `\(n.name.prefix(80))` (\(n.opType)) "
      leaveOut(n, message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message)
    }
  }

  mutating func leaveOut(_ n: Onnx_NodeProto, _ reason: String) {
    let name = n.name.isEmpty ? (n.output.first ?? "") : n.name
    unimported.append(UnimportedNode(name: String(name.prefix(200)), opType: String(n.opType.prefix(60)), reason: reason))
    for o in n.output where !o.isEmpty { blocked[o] = name }
  }

  /// The output of a partial import: the graph's when one layer computes it, else the
  /// last layer that no other reads. Layers not on the path to it are listed as left out.
  mutating func partialOutput() throws(DiagnosticError) {
    let readers = Set(layers.flatMap(\.inputs))
    if graph.output.count == 1, let out = values[graph.output[0].name] {
      output = out
    } else if let sink = layers.indices.dropFirst().last(where: { !readers.contains($0) }) {
      output = sink
    } else {
      throw DiagnosticError([
        .error(
          .onnxUnsupported, "`\(path)`: no node could be imported, so a partial import has no layer (\(unimported.count) left out)",
          at: nil, notes: unimported.prefix(5).map { .init("node `\($0.name.prefix(80))` (\($0.opType)) \($0.reason)") })
      ])
    }
    var reached = Set([output])
    var stack = [output]
    while let l = stack.popLast() {
      for x in layers[l].inputs + (layers[l].cross.map { [$0] } ?? []) where reached.insert(x).inserted { stack.append(x) }
    }
    var listed = Set(unimported.map(\.name))
    unreached = layers.count - reached.count
    for (i, l) in layers.enumerated() where !reached.contains(i) && listed.insert(l.nodeName).inserted {
      unimported.append(
        UnimportedNode(
          name: String(l.nodeName.prefix(200)), opType: l.opType,
          reason: "is not on the path to the spec's output (`\(layers[output].nodeName.prefix(80))`)"))
    }
  }
}
