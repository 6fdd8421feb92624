import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import Testing

@testable import NetcBackends

/// A mixture of experts in the generated PyTorch source: the router, the experts as an
/// `nn.ModuleList` of one class, the loader's table of stacked expert tensors, and what the
/// export refuses. Its numbers are checked in PyTorch by
/// scripts/pytorch/verify_pytorch_export.py (scripts/pytorch/specs/mixtral_tiny, moe_ops).
@Suite struct PyTorchMixtureTests {
  func source(_ text: String) throws -> String {
    let analysis = try analyze(try parseSpec(text).graph)
    return try PyTorchExport.source(analysis.graph, analysis.shapes, specPath: "t.yaml")
  }

  static let mixture = specText(
    input: "4x8",
    layers: ["moe:\n      name: m\n      experts: 3\n      top: 2\n      layers: [LINEAR-6 name up, SILU, LINEAR-8 name down]"])

  @Test func routerExpertsAndRouting() throws {
    let code = try source(Self.mixture)
    #expect(code.contains("self.router = nn.Linear(8, 3, bias=False)"), "\(code)")
    #expect(code.contains("self.experts = nn.ModuleList([Expert() for _ in range(3)])"))
    #expect(code.contains("class Expert(nn.Module):"))
    #expect(code.contains("self.up = nn.Linear(8, 6)") && code.contains("self.down = nn.Linear(6, 8)"))
    // Ties to the lower expert: a stable descending sort, then the first k = 2.
    #expect(code.contains("scores, picked = logits.sort(dim=-1, descending=True, stable=True)"))
    #expect(code.contains("weights = torch.zeros_like(logits).scatter(-1, picked[..., :2], F.softmax(scores[..., :2], dim=-1))"))
    #expect(code.contains("return sum(weights[..., k, None] * expert(x) for k, expert in enumerate(self.experts))"))
  }

  @Test func loaderSplitsTheStackedTensors() throws {
    let code = try source(Self.mixture)
    // netc's expert tensors are [E][out][in]; `*` is the expert's index in the module.
    #expect(code.contains("\"m.expert.up.weight\": (\"m.experts.*.up.weight\", (3, 6, 8)),"), "\(code)")
    #expect(code.contains("\"m.expert.down.bias\": (\"m.experts.*.down.bias\", (3, 8)),"))
    #expect(code.contains("\"m.router.weight\": (\"m.router.weight\", (3, 8)),"))
    #expect(code.contains("key.replace(\"*\", str(k))"))
    // One expert has no experts' axis: its tensors fill expert 0.
    let one = try source(specText(input: "4x8", layers: ["moe:\n      name: m\n      experts: 1\n      layers: [LINEAR-8 name w]"]))
    #expect(one.contains("\"m.expert.w.weight\": (\"m.experts.0.w.weight\", (8, 8)),"), "\(one)")
  }

  @Test func imageExpertsAreReadChannelsLast() throws {
    let code = try source(
      specText(
        input: "4x4x2", layers: ["moe:\n      name: m\n      experts: 2\n      top: 1\n      layers: [CONV3-2 pad 1 name conv, RELU]"]))
    // The router reads [N, H, W, C]; each conv expert computes [N, C, H, W], moved back.
    #expect(code.contains("logits = self.router(x.movedim(1, -1))"), "\(code)")
    #expect(code.contains("expert(x).movedim(1, -1) for k, expert in enumerate(self.experts)"))
    #expect(code.contains("CHANNELS_FIRST = {\"input\": True, \"output\": False}"))
  }

  @Test func aTieInsideAnExpertIsRefusedAtItsLayer() throws {
    // Both layers stack the 2 experts' weights ([2][8][8]), so netc lets them share; the
    // module's experts are separate instances, whose weights one assignment cannot tie.
    let text = specText(
      input: "4x8", layers: ["moe:\n      name: m\n      experts: 2\n      layers: [LINEAR-8 name a, LINEAR-8 tie a name tied]"])
    let error = #expect(throws: DiagnosticError.self) { try source(text) }
    let d = try #require(error?.diagnostics.first)
    #expect(d.message.contains("cannot write a weight tied into or out of a mixture's expert yet: `m.expert.tied`"), "\(d.message)")
    #expect(d.range?.start.line == 7)
  }
}
