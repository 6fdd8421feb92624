import Testing

@testable import NetcBackends

/// Loss messages name a class index as it was written.
struct LossTests {
  @Test("a whole class index prints without a fraction, another one with it")
  func classIndexText() {
    #expect(Loss.number(Float(5)) == "5")
    #expect(Loss.number(Double(-2)) == "-2")
    #expect(Loss.number(Double(2.5)) == "2.5")
  }

  @Test("cross-entropy's out-of-range message says `got 5`, not `got 5.0`")
  func crossEntropyMessage() {
    let y = Tensor<Double>(shape: [3], data: [0.1, 0.2, 0.3])
    guard case .failure(let e) = Loss.crossEntropy.evaluate(y, target: Tensor(shape: [1], data: [5])) else {
      Issue.record("an index of 5 among 3 classes was accepted")
      return
    }
    #expect(e.message.contains("got 5") && !e.message.contains("got 5.0"))
  }
}
