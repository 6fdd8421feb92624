import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import Testing

@testable import NetcBackends

/// The generated PyTorch source. Whether it computes what `netc run` does is checked in
/// PyTorch by scripts/pytorch/verify_pytorch_export.py (no torch here); these tests pin the
/// code's presentation (goldens), that every op has a writer or a refusal, and the names.
@Suite struct PyTorchExportTests {
  /// The module of a spec file of the repository, its vars bound.
  func source(_ relative: String, bindings: [String: Int] = [:]) throws -> String {
    let spec = try SpecLoader.load(path: repositoryPath(relative))
    let analysis = try analyze(spec.graph, bindings: bindings)
    let shapes = analysis.shapes
    return try PyTorchExport.source(analysis.graph, shapes, specPath: relative)
  }

  @Test(
    "the generated module of a reference spec",
    arguments: [
      ("specs/resnet18.yaml", "resnet18.py"), ("specs/gpt2.yaml", "gpt2.py"), ("specs/vit_b_16.yaml", "vit_b_16.py"),
      ("specs/unet.yaml", "unet.py"), ("scripts/pytorch/specs/mixtral_tiny.yaml", "mixtral_tiny.py"),
      ("scripts/pytorch/specs/inputs_ops.yaml", "inputs_ops.py"),
    ])
  func golden(_ spec: String, _ golden: String) throws {
    assertGolden(try source(spec, bindings: spec.contains("gpt2") || spec.contains("mixtral") ? ["T": 16] : [:]), named: golden)
  }

  /// What the code of each op must contain: the PyTorch module or expression that
  /// computes it (exhaustive: a new op needs a writer).
  static func expected(_ op: OpKind) -> String {
    switch op {
    case .input: "def forward(self, x):"
    case .conv: "nn.Conv2d(2, 3, 3, stride=2, padding=1)"
    // DWCONV3-2 on 2 channels: the multiplier 2 gives 2 x 2 = 4 filters, groups = C = 2.
    case .dwconv: "nn.Conv2d(2, 4, 3, padding=1, groups=2)"
    case .pwconv: "nn.Conv2d(2, 3, 1)"
    case .deconv: "nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)"
    case .maxpool: "nn.MaxPool2d(2, stride=1)"
    case .avgpool: "nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)"
    case .gap: "nn.AdaptiveAvgPool2d(1)"
    case .gmp: "nn.AdaptiveMaxPool2d(1)"
    case .fc: "nn.Linear(6, 3)"
    case .linear: "nn.Linear(4, 5)"
    case .flatten: "torch.flatten(x, 1)"
    case .bn: "nn.BatchNorm2d(2)"
    case .layernorm: "nn.LayerNorm(4)"
    case .rmsnorm: "nn.RMSNorm(4, eps=1e-05)"
    case .relu: "nn.ReLU()"
    case .relu6: "nn.ReLU6()"
    case .sigmoid: "nn.Sigmoid()"
    case .tanh: "nn.Tanh()"
    case .softmax: "nn.Softmax(dim=-1)"
    case .gelu: "nn.GELU()"
    case .silu: "nn.SiLU()"
    case .hardswish: "nn.Hardswish()"
    case .hardsigmoid: "nn.Hardsigmoid()"
    // An identity is its input: no module, no line.
    case .identity: "return self.conv1(x)"
    case .leakyrelu: "nn.LeakyReLU(0.1)"
    case .dropout: "nn.Dropout(0.3)"
    case .droppath: "DropPath(0.1)"
    case .layerscale: "nn.Parameter(torch.ones(4))"
    case .embed: "nn.Embedding(10, 4)"
    case .posembed: "x + self.posembed1.weight[: x.shape[1]]"
    case .typeembed: "x + self.typeembed1.weight[0]"
    case .clstoken: "torch.cat([self.clstoken1.expand(x.shape[0], -1, -1), x], dim=1)"
    case .tokens: "x.flatten(2).transpose(1, 2)"
    case .take: "x[:, -1]"
    case .attention: "Attention(8, 4, kv_heads=2, causal=True)"
    case .upsample: "nn.Upsample(scale_factor=2.0)"
    case .pad: "nn.ZeroPad2d((1, 1, 1, 1))"
    case .shuffle: "nn.ChannelShuffle(2)"
    case .add: "return body + x"
    case .concat: "torch.cat([branch1, branch2], dim=1)"
    case .mul: "x * branch2"
    case .slice: "x[:, 2:4]"
    // 4 experts of width 4, each position routed to 2 (OpCoverageTests' example).
    case .router: "self.router = nn.Linear(4, 4, bias=False)"
    case .moe: "F.softmax(scores[..., :2], dim=-1)"
    }
  }

  @Test("every op is written as PyTorch code", arguments: OpKind.allCases)
  func opCoverage(_ op: OpKind) throws {
    let spec = try OpCoverageTests.parse(op)
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    let text = Self.expected(op)
    let code = try PyTorchExport.source(analysis.graph, shapes, specPath: "t.yaml")
    #expect(code.contains(text), "\(op): no `\(text)` in\n\(code)")
  }

  @Test func identifiers() {
    // Python identifiers: letters, digits and `_`, no leading digit, no keyword.
    #expect(PythonNames.identifier("conv1") == "conv1")
    #expect(PythonNames.identifier("conv-1") == "conv_1")
    #expect(PythonNames.identifier("1x1") == "_1x1")
    #expect(PythonNames.identifier("class") == "class_")
    #expect(PythonNames.identifier("self") == "self_")
    #expect(PythonNames.identifier("") == "_")
    #expect(PythonNames.className("h.1.residual1") == "HResidual1")
    #expect(PythonNames.className("small-cnn") == "SmallCnn")
    #expect(PythonNames.className("3d") == "Block3d")
    #expect(PythonNames.extents([3, 3]) == "3")
    #expect(PythonNames.extents([3, 5]) == "(3, 5)")
    #expect(PythonNames.float(1e-6) == "1e-06")
    #expect(PythonNames.float(2) == "2.0")
  }

  /// PyTorch's AvgPool has no dilation: a depthwise conv of 1/taps over the zero-padded
  /// input (every window inside the padding), and a refusal where ceil rounding adds a
  /// window past it (9 + 1 + 1 - 5 = 6 = 3 strides: ceil adds no window; 10 gives 3.5).
  @Test func dilatedAveragePool() throws {
    let spec = try parseSpec(specText(input: "9x9x2", layers: ["AVGPOOL3 stride 2 pad 1 dilation 2 round ceil name p"]))
    let code = try PyTorchExport.source(try analyze(spec.graph).graph, try analyze(spec.graph).shapes, specPath: "t.yaml")
    #expect(code.contains("F.conv2d(F.pad(x, (1, 1, 1, 1)), x.new_full((2, 1, 3, 3), 1 / 9), stride=2, dilation=2, groups=2)"), "\(code)")
    let past = try parseSpec(specText(input: "10x10x2", layers: ["AVGPOOL3 stride 2 pad 1 dilation 2 round ceil name p"]))
    let error = #expect(throws: DiagnosticError.self) {
      try PyTorchExport.source(past.graph, try inferShapes(past.graph, bindings: [:]), specPath: "t.yaml")
    }
    #expect(error?.diagnostics.first?.message.contains("a dilated AVGPOOL whose ceil rounding adds a window past its padding") == true)
  }

  @Test func layerNamesBecomeUniqueAttributes() throws {
    // `a-b` and `a_b` are different netc names but one Python identifier: the second gets
    // a suffix, and the loader's table maps each netc name to its own attribute.
    let spec = try parseSpec(specText(input: "4", layers: ["FC-3 name a-b", "FC-2 name a_b"]))
    let analysis = try analyze(spec.graph)
    let code = try PyTorchExport.source(analysis.graph, analysis.shapes, specPath: "t.yaml")
    #expect(code.contains("self.a_b = nn.Linear(4, 3)"))
    #expect(code.contains("self.a_b_2 = nn.Linear(3, 2)"))
    #expect(code.contains("\"a-b.weight\": (\"a_b.weight\", (3, 4)),"))
    #expect(code.contains("\"a_b.weight\": (\"a_b_2.weight\", (2, 3)),"))
  }

  @Test func copiesOfARepeatShareTheirClass() throws {
    // Three copies written alike are one class in an nn.ModuleList; the loader's keys
    // count the copies from 0 as ModuleList does, netc's names from 1.
    let spec = try parseSpec(specText(input: "4x8", layers: ["{repeat: 3, name: blocks, layers: [LN, LINEAR-8]}"]))
    let analysis = try analyze(spec.graph)
    let code = try PyTorchExport.source(analysis.graph, analysis.shapes, specPath: "t.yaml")
    #expect(code.contains("self.blocks = nn.ModuleList([BlocksBlock() for _ in range(3)])"))
    #expect(code.contains("for block in self.blocks:\n            x = block(x)"))
    #expect(code.contains("\"blocks.3.linear1.weight\": (\"blocks.2.linear1.weight\", (8, 8)),"))
  }

  /// A spec of several inputs: `forward` takes one argument per input, named after it, in
  /// the spec's order (not alphabetical: `tgt` is declared first here), and each input
  /// keeps the layout of its own chain's first layer (the image's conv: channels first).
  @Test func severalInputsAreForwardsArguments() throws {
    let text = """
      netspec: 1
      name: two
      inputs:
        tgt: 3x4
        src: 5x5x2
      layers:
        - LINEAR-4 name memory
        - from: src
        - CONV3-4 pad 1 name stem
        - TOKENS
        - ATTN-2 cross memory name attn
      """
    let spec = try parseSpec(text)
    let analysis = try analyze(spec.graph)
    let code = try PyTorchExport.source(analysis.graph, analysis.shapes, specPath: "t.yaml")
    let forward = """
          def forward(self, tgt, src):
              tgt = self.memory(tgt)
              src = self.stem(src)
              src = src.flatten(2).transpose(1, 2)
              return self.attn(src, tgt)

      """
    #expect(code.contains(forward), "\(code)")
    #expect(code.contains("INPUTS = (\"tgt\", \"src\")\n"))
    #expect(code.contains("INPUT_CHANNELS_FIRST = {\"tgt\": False, \"src\": True}\n"))
    #expect(code.contains("INPUT_SHAPES = {\"tgt\": (3, 4), \"src\": (2, 5, 5)}\n"))
    #expect(code.contains("`two`: inputs tgt [N, 3, 4], src [N, 2, 5, 5], output [N, 25, 4]."), "\(code)")
  }

  /// An input's name as a parameter: a Python keyword or a name the generated code uses
  /// gets a `_`, and two names of one identifier stay apart.
  @Test func inputNamesBecomeValidDistinctParameters() throws {
    let text = """
      netspec: 1
      name: names
      inputs:
        torch: 3x4
        a-b: 2x4
        a_b: 2x4
      layers:
        - LN name n
        - from: a-b
        - LN name m1
        - from: a_b
        - LN name m2
        - from: torch
        - ATTN-2 cross m1 name attn1
        - ATTN-2 cross m2 name attn2
      """
    let spec = try parseSpec(text)
    let analysis = try analyze(spec.graph)
    let code = try PyTorchExport.source(analysis.graph, analysis.shapes, specPath: "t.yaml")
    #expect(code.contains("def forward(self, torch_, a_b, a_b_):"), "\(code)")
    #expect(code.contains("INPUTS = (\"torch_\", \"a_b\", \"a_b_\")\n"), "\(code)")
  }
}
