import CNetcKernels
import Foundation
import Testing

/// `netc_linear` (weights as PyTorch keeps them, packed block by block as it goes) and the
/// vectorised exp behind `netc_gelu_tanh` and `netc_exp_shifted`, at each SIMD level this
/// CPU has, against plain loops and libm in Double.
@Suite(.enabled(if: netc_kernel_level() >= 1, "this CPU has neither AVX2 nor AVX-512: no SIMD kernel to check"))
struct LinearKernelTests {
  typealias Numbers = CNetcKernelsTests.Numbers

  // Columns past one packing block (k = 40 packs 256 at a time, k = 3000 only 64), not a
  // multiple of 32; rows across the row kernels; a leading dimension longer than k.
  @Test(arguments: [(1, 1, 1, 1), (7, 40, 300, 40), (30, 3000, 70, 3000), (13, 769, 33, 800), (100, 64, 513, 64), (2, 5, 8, 9)])
  func linearMatchesTheProduct(rows: Int, k: Int, n: Int, ldw: Int) {
    var numbers = Numbers(state: UInt64(rows * 7 + k * 13 + n))
    let a = numbers.array(rows * k), w = numbers.array(n * ldw), bias = numbers.array(n)
    for level in CNetcKernelsTests.levels {
      for useBias in [false, true] {
        var c = [Float](repeating: .nan, count: rows * n)
        // Two column ranges split at a panel edge, as the threads split them.
        let split = min(n, 64)
        for (j0, j1) in [(0, split), (split, n)] where j0 < j1 {
          let done = bias.withUnsafeBufferPointer { bb in
            netc_linear_at(level, a, k, w, ldw, k, &c, n, useBias ? bb.baseAddress : nil, nil, 0, 0, rows, j0, j1)
          }
          #expect(done == 1)
        }
        for i in 0..<rows {
          for j in 0..<n {
            var sum = useBias ? Double(bias[j]) : 0, scale = 1.0
            for l in 0..<k {
              sum += Double(a[i * k + l]) * Double(w[j * ldw + l])
              scale += abs(Double(a[i * k + l]) * Double(w[j * ldw + l]))
            }
            #expect(abs(Double(c[i * n + j]) - sum) <= 1e-6 * scale, "level \(level) [\(i)][\(j)]: \(c[i * n + j]) vs \(sum)")
          }
        }
      }
    }
  }

  /// `netc_pack_rows` of W (`n x k`, leading dimension `ldw`) is `netc_pack_b` of Wᵀ
  /// written out, padding zeros included; packed in two parts split at a panel edge, as
  /// the threads pack.
  @Test(arguments: [(1, 1, 1), (40, 300, 40), (769, 33, 800), (16, 64, 16), (3, 97, 5)])
  func packRowsIsPackBOfTheTranspose(k: Int, n: Int, ldw: Int) {
    var numbers = Numbers(state: UInt64(k * 3 + n))
    let w = numbers.array(n * ldw)
    var transposed = [Float](repeating: 0, count: k * n)
    for j in 0..<n { for l in 0..<k { transposed[l * n + j] = w[j * ldw + l] } }
    let size = netc_packed_size(k, n)
    var expected = [Float](repeating: .nan, count: size), packed = [Float](repeating: .nan, count: size)
    netc_pack_b(transposed, n, k, n, &expected)
    let split = min(n, 32)
    w.withUnsafeBufferPointer { wb in
      packed.withUnsafeMutableBufferPointer { pb in
        netc_pack_rows(wb.baseAddress!, ldw, k, split, pb.baseAddress!)
        if split < n { netc_pack_rows(wb.baseAddress! + split * ldw, ldw, k, n - split, pb.baseAddress! + split * k) }
      }
    }
    #expect(packed == expected)
  }

  @Test func linearDeclinesAtLevelZero() {
    var c: [Float] = [7]
    #expect(netc_linear_at(0, [1], 1, [1], 1, 1, &c, 1, nil, nil, 0, 0, 1, 0, 1) == 0)
    #expect(c == [7])
  }

  /// Inputs across the exp's range: its clamps, both signs, and a NaN.
  static var inputs: [Float] {
    var xs: [Float] = [0, -0.0, 1e-8, -1e-8, 0.5, -0.5, 1, -1, 3, -3, 10, -10, 20, -20, 60, -60, 86, -86, 87.9, -87.3, .nan]
    var numbers = Numbers(state: 5)
    xs += (0..<300).map { _ in numbers.next() * 30 }
    return xs
  }

  @Test func expShiftedIsWithinTwoUlpsOfLibm() {
    let xs = Self.inputs.filter { !$0.isNaN }
    for level: Int32 in [0] + CNetcKernelsTests.levels {
      for shift: Float in [0, 2.5, -40] {
        var row = xs
        let sum = netc_exp_shifted_at(level, &row, row.count, shift)
        var expected = 0.0
        for (x, e) in zip(xs, row) {
          // The argument is the fp32 difference, as in the kernel and in libm's use.
          let exact = Foundation.exp(Double(x - shift))
          expected += exact
          // Outside the clamp the kernel saturates (e^88, about 1e-38): 2 ulp inside it.
          guard Double(x - shift) <= 88, Double(x - shift) >= -87.3 else { continue }
          #expect(abs(Double(e) - exact) <= 2.4e-7 * exact, "level \(level): exp(\(x) - \(shift)) = \(e), not \(exact)")
        }
        if expected < 1e38 { #expect(abs(Double(sum) - expected) <= 1e-6 * expected, "level \(level) shift \(shift)") }
      }
    }
    for level in CNetcKernelsTests.levels {
      var row: [Float] = [1, .nan, 2]
      _ = netc_exp_shifted_at(level, &row, 3, 0)
      #expect(row[1].isNaN, "level \(level): a NaN must stay NaN")
    }
  }

  /// GELU's tanh form, x/2 (1 + tanh u) with u = sqrt(2/pi) (x + 0.044715 x^3), in Double as
  /// x / (1 + e^(-2u)) (the same number; 1 + tanh u cancels for u below -18 even in Double).
  /// Far left the output is tiny and the fp32 rounding of u dominates its relative error, so
  /// the bound adds 1e-9 |x| (PyTorch's fp32 tanh form is no closer).
  @Test func geluTanhMatchesTheFormula() {
    let xs = Self.inputs
    for level: Int32 in [0] + CNetcKernelsTests.levels {
      var y = [Float](repeating: 0, count: xs.count)
      netc_gelu_tanh_at(level, xs, &y, xs.count)
      for (x, v) in zip(xs, y) {
        if x.isNaN {
          #expect(v.isNaN, "level \(level): GELU(NaN) = \(v)")
          continue
        }
        let d = Double(x), exact = d / (1 + Foundation.exp(-2 * (2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d)))
        #expect(abs(Double(v) - exact) <= 1e-6 * abs(exact) + 1e-9 * abs(d), "level \(level): GELU(\(x)) = \(v), not \(exact)")
      }
    }
  }

  /// `netc_gelu_erf` against 0.5 x erfc(-x / sqrt 2) in Double (erfc: no cancellation) at
  /// every level, within the bounds exp.c states: 2 ulp for x >= 0, 14 on (-1.42, 0),
  /// 1e-5 relative down to x = -8.48 (|z| = 6), and below that a value under 1e-16.
  /// A count that is no multiple of 16 or 8 runs the tails.
  @Test func geluErfMatchesTheExactForm() {
    let xs = Self.inputs + (0...20_001).map { Float(-9 + 18 * Double($0) / 20_001) } + [.infinity, 8.48, -8.48, -8.49, 1.4142, -1.4142]
    for level: Int32 in [0] + CNetcKernelsTests.levels {
      var y = [Float](repeating: 0, count: xs.count)
      netc_gelu_erf_at(level, xs, &y, xs.count)
      for (x, v) in zip(xs, y) {
        if x.isNaN || x.isInfinite {
          #expect(x.isNaN ? v.isNaN : v == x, "level \(level): GELU(\(x)) = \(v)")
          continue
        }
        let d = Double(x), exact = 0.5 * d * Foundation.erfc(-d / 2.0.squareRoot())
        let ulp = Double(Float(exact).ulp), error = abs(Double(v) - exact)
        let bound = x >= 0 ? 2 * ulp : x > -1.42 ? 14 * ulp : x > -8.48 ? 1e-5 * abs(exact) + ulp : 1e-16
        #expect(error <= bound, "level \(level): GELU(\(x)) = \(v), not \(exact)")
      }
    }
  }
}
