import Foundation
import NetcFrontend
import NetcIR
import NetcPasses
import NetcTestSupport
import Testing

/// Gradients, optimizer state and the step's total against arithmetic, on the CNN:
/// params = (3·3·3·32 + 32) + 2·32 + (3·3·32·64 + 64) + 2·64 + (4096·10 + 10) = 60,554.
struct TrainingMemoryTests {
  static let layers = ["CONV3-32 pad 1", "BN", "RELU", "POOL2", "CONV3-64 pad 1", "BN", "RELU", "POOL2", "FLATTEN", "FC-10"]
  static let params = 60_554

  static func memory(_ optimizer: Optimizer, mixed: StorageType? = nil) throws -> TrainingMemory {
    let a = try analyzeSpec(specText(input: "32x32x3", layers: layers))
    #expect(a.costs.total.params == params)
    return try #require(
      trainingMemory(a.graph, a.shapes, params: a.costs.total.params, optimizer: optimizer, storage: .fp32, mixedPrecision: mixed))
  }

  /// SGD keeps no state, momentum one copy, Adam and AdamW two (4 bytes each at fp32).
  @Test(arguments: [(Optimizer.sgd, 0), (.momentum, 1), (.adam, 2), (.adamw, 2)])
  func optimizerStates(optimizer: Optimizer, copies: Int) throws {
    let m = try Self.memory(optimizer)
    #expect(m.weights == 4 * Self.params)
    #expect(m.gradients == 4 * Self.params)
    #expect(m.optimizerState == 4 * copies * Self.params)
    #expect(m.masterCopy == 0)
    #expect(m.total.at(batch: 32) == 17_696_256 + (8 + 4 * copies) * Self.params)
  }

  /// Mixed-precision Adam: 2 + 2 + 4 + 4 + 4 = 16 bytes a parameter (the ZeRO paper, §3.1);
  /// activations at 2 bytes, indices still 8 and BN's statistics still 4.
  @Test func mixedPrecisionAdam() throws {
    let m = try Self.memory(.adam, mixed: .fp16)
    #expect(m.weights + m.gradients + m.masterCopy + m.optimizerState == 16 * Self.params)
    // Per example the values of the hand-worked count at 2 bytes: conv1's input 3,072, bn1's
    // input and relu1's output 32,768 each, conv2's input 8,192, bn2's input and relu2's
    // output 16,384 each, fc's input 4,096 (113,664); the pools' indices at 8 (16·16·32 +
    // 8·8·64 = 12,288).
    let values = 3_072 + 2 * 32_768 + 8_192 + 2 * 16_384 + 4_096
    #expect(values == 113_664)
    #expect(m.saved.total == BatchBytes(perExample: values * 2 + 12_288 * 8, constant: (4 * 32 + 4 * 64) * 4))
  }

  /// scripts/reference/autocast_saved.py: under bf16 autocast PyTorch saves netc's bf16
  /// figure (activations in bf16, pool indices int64, BN statistics fp32) plus the bf16 copy
  /// of each conv and linear weight it casts per forward pass: (3·3·3·32 + 3·3·32·64 +
  /// 4096·10) · 2 bytes = 60,256 · 2 = 120,512. netc's mixed-precision model holds half
  /// weights as the weights instead (ZeRO's accounting), so it does not add those copies.
  @Test func bf16AutocastSavesNetcsFigurePlusTheCastWeights() throws {
    struct Fixture: Decodable {
      struct Network: Decodable {
        var fp32: Int
        var bf16_autocast: Int
      }
      var small_cnn_batch_32: Network
    }
    let data = try Data(contentsOf: URL(fileURLWithPath: repositoryPath("Tests/NetcPassesTests/Fixtures/autocast_saved.json")))
    let f = try JSONDecoder().decode(Fixture.self, from: data).small_cnn_batch_32
    #expect(f.fp32 == 17_696_256)
    let m = try Self.memory(.adamw, mixed: .bf16)
    let saved = try #require(m.saved.total.at(batch: 32))
    #expect(saved + 2 * (3 * 3 * 3 * 32 + 3 * 3 * 32 * 64 + 4096 * 10) == f.bf16_autocast)
  }

  /// GPT-2 small at T = 128 under bf16 autocast (scripts/reference/autocast_saved.py):
  /// PyTorch saves netc's bf16 figure plus, exactly,
  /// - the bf16 copy of every linear weight it casts per pass: per block c_attn 768·2304,
  ///   c_proj 768·768, c_fc 768·3072 and the MLP's c_proj 3072·768 (7,077,888), 12 blocks,
  ///   and the tied LM head 768·50257 (38,597,376): 123,532,032 · 2 = 247,064,064 bytes;
  /// - the ops autocast runs in fp32 on CPU, whose saved values are 4 bytes, not 2: each
  ///   softmax keeps its fp32 output (12 heads · 128 · 128 · 4 = 786,432 a block) beside the
  ///   bf16 probabilities attention x V keeps (netc's figure): 12 · 786,432 = 9,437,184;
  ///   the 25 LayerNorms (2 a block and ln_f) read the fp32 residual stream, so their
  ///   inputs are 128·768 · 2 bytes more each: 25 · 196,608 = 4,915,200; and the embedding
  ///   sum (fp32 weights, fp32 sum) gives the first dropout fp32 noise: 196,608 more.
  /// 80,833,536 + 247,064,064 + 9,437,184 + 4,915,200 + 196,608 = 342,446,592.
  @Test func gpt2UnderBF16AutocastIsNetcsFigurePlusCastWeightsAndFP32Ops() throws {
    struct Fixture: Decodable {
      struct Network: Decodable {
        var fp32: Int
        var bf16_autocast: Int
      }
      var gpt2_T_128: Network
    }
    let data = try Data(contentsOf: URL(fileURLWithPath: repositoryPath("Tests/NetcPassesTests/Fixtures/autocast_saved.json")))
    let f = try JSONDecoder().decode(Fixture.self, from: data).gpt2_T_128
    let spec = try SpecLoader.load(path: repositoryPath("specs/gpt2.yaml"))
    let a = try analyze(spec.graph, bindings: ["T": 128])
    let m = try #require(
      trainingMemory(a.graph, a.shapes, params: a.costs.total.params, optimizer: .adamw, storage: .fp32, mixedPrecision: .bf16))
    let saved = try #require(m.saved.total.at(batch: 1))
    #expect(saved == 80_833_536)
    let castWeights = 2 * (12 * (768 * 2304 + 768 * 768 + 768 * 3072 + 3072 * 768) + 768 * 50257)
    #expect(castWeights == 247_064_064)
    let softmax = 12 * (12 * 128 * 128 * 4)
    let norms = 25 * (128 * 768 * 2)
    let embeddingDropout = 128 * 768 * 2
    #expect(saved + castWeights + softmax + norms + embeddingDropout == f.bf16_autocast)
  }
}
