import NetcDiagnostics
import NetcIR
import NetcPasses

/// A mixture of experts as a class: `router` (a bias-free `nn.Linear`), `experts` (an
/// `nn.ModuleList` of one expert class, which `load_netc_weights` fills from netc's
/// tensors stacked on a leading axis of experts), and a `forward` that routes as
/// transformers' MixtralSparseMoeBlock and `netc run` do: the top-k of the router's logits,
/// the softmax over the picked ones, the weighted sum of the picked experts' outputs. Every
/// expert runs on every position, as `run` computes it, which holds for any expert body
/// (a convolution's output at a position reads its neighbours).
extension PyTorchModuleWriter {
  /// The mixture's `__init__` lines, `forward` parameters and body; nil when the structure
  /// is not a router, its expert and their merge.
  mutating func mixtureClass(_ tree: StructureTree, path: [String]) throws(DiagnosticError) -> (
    setup: [String], parameters: [String], body: [String]
  )? {
    let router = graph.nodes[tree.range.lowerBound], merge = graph.nodes[tree.range.upperBound]
    guard router.op == .router, merge.op == .moe else { return nil }
    let inputs = externals(tree.range)
    let parameters = parameterNames(inputs)
    let name = Dictionary(uniqueKeysWithValues: zip(inputs, parameters))
    let experts = shapes.nodes[router.id].outChannels, top = router.attributes.integer(.topK)?.expr.constant ?? 1
    let width = shapes.nodes[router.id].inChannels
    // Locals that no parameter's name takes.
    func local(_ base: String) -> String {
      var n = base
      while parameters.contains(n) { n += "_" }
      return n
    }
    let (logits, scores, picked, weights) = (local("logits"), local("scores"), local("picked"), local("weights"))
    let x = name[source(router.inputs[0])] ?? parameters[0]
    statePaths[router.id] = path + ["router"]
    var setup = ["self.router = nn.Linear(\(width), \(experts), bias=False)"]
    let expert: String
    if let body = tree.children.first(where: { $0.group?.kind == .expert }) {
      let cls = try writeClass(body, path: path + ["experts", "*"], names: classNames(for: body), doc: docString(body))
      setup.append("self.experts = nn.ModuleList([\(cls)() for _ in range(\(experts))])")
      let args = externals(body.range).map { name[$0] ?? parameters[0] }.joined(separator: ", ")
      let out = source(body.range.upperBound)
      expert = converted("expert(\(args))", from: layouts[out], to: .channelsLast)
    } else {
      // Experts without layers: each is its input.
      setup.append("self.experts = nn.ModuleList([nn.Identity() for _ in range(\(experts))])")
      expert = converted("expert(\(x))", from: layouts[source(router.inputs[0])], to: .channelsLast)
    }
    helpers.insert(.functional)
    let body = [
      "\(logits) = self.router(\(converted(x, from: layouts[source(router.inputs[0])], to: .channelsLast)))",
      "# The top \(top) of \(experts) experts at each position, ties to the lower expert (a stable sort:",
      "# torch.topk keeps no order among equal scores), weighted by the softmax over their scores.",
      "\(scores), \(picked) = \(logits).sort(dim=-1, descending=True, stable=True)",
      "\(weights) = torch.zeros_like(\(logits)).scatter(-1, \(picked)[..., :\(top)], F.softmax(\(scores)[..., :\(top)], dim=-1))",
      "return sum(\(weights)[..., k, None] * \(expert) for k, expert in enumerate(self.experts))",
    ]
    return (setup, parameters, body)
  }
}
