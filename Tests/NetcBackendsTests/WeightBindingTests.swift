import NetcDiagnostics
import NetcFrontend
import NetcPasses
import Testing

@testable import NetcBackends

@Suite struct WeightBindingTests {
  func bind(_ text: String, seed: UInt64 = 0) throws -> [LayerParameters<Double>?] {
    let spec = try SpecLoader.parse(SourceFile(path: "w.yaml", text: text))
    let analysis = try analyze(spec.graph)
    let shapes = analysis.shapes
    return try WeightBinding.bind(analysis.graph, shapes, sources: spec.weights.map { [.mapping($0, file: "w.yaml")] } ?? [], seed: seed)
  }

  func diagnostics(_ text: String) -> [Diagnostic] {
    do {
      _ = try bind(text)
      return []
    } catch let e as DiagnosticError {
      return e.diagnostics
    } catch {
      return []
    }
  }

  @Test func scalarsFillAndNestedListsKeepTheirShape() throws {
    let p = try bind("name: n\ninput: 4x4x2\nlayers: [CONV3-2 name c]\nweights:\n  c: { weight: 0.5, bias: [1, 2] }\n")
    #expect(p[1]?.weight?.shape == [2, 2, 3, 3])
    #expect(p[1]?.weight?.data.allSatisfy { $0 == 0.5 } == true)
    #expect(p[1]?.bias?.data == [1, 2])
  }

  @Test func wrongShapeNamesLayerExpectedAndGiven() {
    let d = diagnostics("name: n\ninput: 4x4x2\nlayers: [CONV3-2 name c]\nweights:\n  c: { weight: [[1, 2], [3, 4]] }\n")
    #expect(d.count == 1)
    #expect(d.first?.code == .weightShape)
    #expect(d.first?.message == "`c.weight` is 2x2, expected 2x2x3x3 ([Cout][Cin/groups][kh][kw])")
    #expect(d.first?.range?.start == SourceLocation(line: 5, column: 16))
  }

  /// PyTorch's layouts: `nn.Linear.weight` is (out_features, in_features),
  /// `nn.Embedding.weight` (num_embeddings, embedding_dim), `nn.ConvTranspose2d.weight`
  /// (in_channels, out_channels/groups, kH, kW).
  @Test func wrongShapeNamesTheLayoutOfEachKindOfWeight() {
    let tokens = diagnostics(
      "name: n\ninput: 3 tokens\nlayers: [EMBED-4 vocab 10 name e, LINEAR-2 name l]\nweights:\n  e: { weight: [1] }\n  l: { weight: [1] }\n"
    )
    #expect(
      tokens.map(\.message) == [
        "`e.weight` is 1, expected 10x4 ([vocab][width])", "`l.weight` is 1, expected 2x4 ([out][in])",
      ])
    let deconv = diagnostics("name: n\ninput: 4x4x3\nlayers: [DECONV2-5 stride 2 name d]\nweights:\n  d: { weight: [1] }\n")
    #expect(deconv.map(\.message) == ["`d.weight` is 1, expected 3x5x2x2 ([Cin][Cout/groups][kh][kw])"])
  }

  @Test func unknownLayerSuggestsTheClosest() {
    let d = diagnostics("name: n\ninput: 4\nlayers: [FC-2 name dense]\nweights:\n  dens: { weight: 1 }\n")
    #expect(d.first?.code == .unknownWeight)
    #expect(d.first?.message == "weights for `dens`, but the spec has no layer of that name")
    #expect(d.first?.notes.first?.message == "did you mean `dense`?")
  }

  @Test func layerWithoutWeightsAndUnknownKey() {
    let d = diagnostics("name: n\ninput: 4\nlayers: [RELU, FC-2 name f]\nweights:\n  relu1: { weight: 1 }\n  f: { wieght: 1 }\n")
    #expect(d.map(\.code) == [.unknownWeight, .unknownKey])
    #expect(d.first?.message == "weights for `relu1`, but `relu1` is RELU, which has no weights")
    #expect(d.last?.notes.first?.message == "did you mean `weight`?")
  }

  @Test func missingNpyFileIsAnErrorAtThePath() {
    let d = diagnostics("name: n\ninput: 4\nlayers: [FC-2 name f]\nweights:\n  f: { weight: nowhere.npy }\n")
    #expect(d.first?.code == .weightFile)
    #expect(d.first?.message.contains("cannot read `nowhere.npy`") == true)
  }

  /// Initialisation: uniform in ±1/sqrt(fan_in), deterministic per seed and per layer.
  @Test func seededInitialisation() throws {
    let text = "name: n\ninput: 6x6x3\nlayers: [CONV3-4 name c, BN, FLATTEN, FC-5 name f]\n"
    let a = try bind(text, seed: 1), b = try bind(text, seed: 1), c = try bind(text, seed: 2)
    #expect(a[1]?.weight == b[1]?.weight)
    #expect(a[1]?.weight != c[1]?.weight)
    let convBound = 1 / (3.0 * 9).squareRoot()  // fan_in = Cin * 3 * 3 = 27
    #expect(a[1]!.weight!.data.allSatisfy { abs($0) <= convBound })
    #expect(a[1]!.weight!.data.contains { abs($0) > convBound / 2 })
    let fcBound = 1 / 64.0.squareRoot()  // fan_in = 4x4x4 = 64
    #expect(a[4]!.weight!.data.allSatisfy { abs($0) <= fcBound })
    #expect(a[2]?.gamma?.data == [1, 1, 1, 1] && a[2]?.variance?.data == [1, 1, 1, 1])
    #expect(a[2]?.beta?.data == [0, 0, 0, 0] && a[2]?.mean?.data == [0, 0, 0, 0])
  }

  /// SplitMix64's published first outputs for seed 1234567 (from the reference C code).
  @Test func splitMixReferenceValues() {
    var r = SplitMix64(seed: 1234567)
    #expect(r.next() == 6457827717110365317)
    #expect(r.next() == 3203168211198807973)
  }
}
