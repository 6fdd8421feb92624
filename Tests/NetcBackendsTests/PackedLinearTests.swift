import CNetcKernels
import Testing

@testable import NetcBackends

/// `PackedLinear`: weights packed once, then `y = x Wᵀ + b` on the packed GEMM, against the
/// product in Double; and `netc_rows_apart`, which spreads rows a multiple of 2 KB apart.
@Suite(.enabled(if: PackedLinear.available, "this CPU has neither AVX2 nor AVX-512: nothing is packed"))
struct PackedLinearTests {
  typealias Numbers = CNetcKernelsTests.Numbers

  // k = 1024 and 3072 take the spread rows (4 KB and 12 KB apart); out not a multiple of
  // 32; rows across the row kernels; one row, which is never spread.
  @Test(arguments: [(1, 1024, 40), (30, 1024, 70), (17, 3072, 33), (50, 96, 300), (3, 512, 64)])
  func forwardMatchesTheProduct(rows: Int, k: Int, out: Int) {
    var numbers = Numbers(state: UInt64(rows * 5 + k + out))
    let x = numbers.array(rows * k), w = numbers.array(out * k), bias = numbers.array(out)
    for threads in [1, 2] {
      let packed = PackedLinear(w, inputs: k, outputs: out, threads: threads)
      #expect(packed.matrix == w)
      let y = LastAxisLinear.forward(x, .packed(packed), bias: bias, in: k, out: out, threads: threads)
      for i in 0..<rows {
        for j in 0..<out {
          var sum = Double(bias[j]), scale = 1.0
          for l in 0..<k {
            sum += Double(x[i * k + l]) * Double(w[j * k + l])
            scale += abs(Double(x[i * k + l]) * Double(w[j * k + l]))
          }
          #expect(abs(Double(y[i * out + j]) - sum) <= 1e-6 * scale, "\(threads) threads [\(i)][\(j)]: \(y[i * out + j]) vs \(sum)")
        }
      }
    }
  }

  @Test func rowsApartCopiesOnlyRowsThatShareL1Sets() {
    var numbers = Numbers(state: 9)
    let a = numbers.array(4 * 1024)
    var ld = 0
    a.withUnsafeBufferPointer { ab in
      let base = ab.baseAddress!
      // 3 rows of 1000 values, 1024 apart: copied, 1040 apart.
      let spread = netc_rows_apart(base, 1024, 3, 1000, &ld)!
      #expect(ld == 1040 && spread != base)
      for r in 0..<3 { for l in 0..<1000 { #expect(spread[r * ld + l] == a[r * 1024 + l]) } }
      // Rows 1000 apart, or a single row, stay where they are.
      #expect(netc_rows_apart(base, 1000, 4, 1000, &ld) == base && ld == 1000)
      #expect(netc_rows_apart(base, 1024, 1, 1000, &ld) == base && ld == 1024)
    }
  }
}
