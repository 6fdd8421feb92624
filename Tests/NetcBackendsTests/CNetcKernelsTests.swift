import CNetcKernels
import Testing

/// The AVX-512 and AVX2 kernels against plain loops in Double, on sizes that cross every
/// block edge: rows not a multiple of 12 or 6, columns not a multiple of 32, 16 or 8, K
/// past one K block (769: 384 + 384 + 1), windows clipped by padding. Each level runs when
/// the CPU has it (`netc_kernel_level()`); on a CPU with neither, the kernels must decline.
// Off x86 (or on an x86 without AVX2) the kernels decline and netc runs plain loops: the
// suite is then reported as skipped, not passed with nothing checked.
@Suite(.enabled(if: netc_kernel_level() >= 1, "this CPU has neither AVX2 nor AVX-512: no SIMD kernel to check"))
struct CNetcKernelsTests {
  /// Deterministic values in [-1, 1).
  struct Numbers {
    var state: UInt64
    mutating func next() -> Float {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Float(Int64(bitPattern: state >> 11) % 2000 - 1000) / 1000
    }
    mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
  }

  static func activate(_ v: Double, _ activation: Int32) -> Double {
    var v = v
    if activation >= 1 { v = v.isNaN ? v : max(v, 0) }
    if activation == 2 { v = v.isNaN ? v : min(v, 6) }
    return v
  }

  static var levels: [Int32] { netc_kernel_level() >= 2 ? [1, 2] : netc_kernel_level() == 1 ? [1] : [] }

  // Row counts reach every kernel of AVX-512 (1-14 rows) and AVX2 (1-6) through the balanced
  // row blocks: 1-5, 6, 12, 13 and 14 alone, 15 = 8+7 (AVX2 5+5+5), 17 = 9+8 (AVX2 6+6+5),
  // 25 = 13+12, 30 = 10+10+10, 35 = 12+12+11, 49 = 13+12+12+12 (AVX2 6+6+6+6+5+5+5+5+5).
  // At most 16 columns take AVX-512's 16-column kernel in blocks of up to 24 rows:
  // 30 = 15+15, 49 = 17+16+16, 100 = 5 x 20, 1 = 1, 2 = 2 (and 24 and 23 rows in the last two).
  @Test(arguments: [
    (1, 1, 1), (5, 7, 17), (13, 300, 45), (30, 64, 70), (25, 513, 32), (12, 9, 96), (13, 40, 260), (14, 30, 600),
    (13, 769, 33), (2, 5, 8), (3, 9, 40), (4, 50, 17), (35, 20, 33), (49, 100, 64), (30, 40, 16), (49, 33, 9),
    (100, 16, 16), (24, 400, 16), (23, 7, 3), (6, 20, 40), (15, 65, 64), (17, 390, 33),
  ])
  func gemmMatchesTheProduct(m: Int, k: Int, n: Int) {
    var numbers = Numbers(state: UInt64(m * 1000 + k * 10 + n))
    let a = numbers.array(m * k), b = numbers.array(k * n), bias = numbers.array(n), residual = numbers.array(m * n)
    var packed = [Float](repeating: .nan, count: netc_packed_size(k, n))
    netc_pack_b(b, n, k, n, &packed)
    for level in Self.levels {
      for activation: Int32 in [0, 1, 2] {
        for (useBias, useResidual) in [(false, false), (true, false), (true, true)] {
          var c = [Float](repeating: .nan, count: m * n)
          // Two column ranges, split at a panel edge, as the threads split them.
          let split = min(n, 32)
          for (j0, j1) in [(0, split), (split, n)] where j0 < j1 {
            let done = bias.withUnsafeBufferPointer { bb in
              residual.withUnsafeBufferPointer { rb in
                netc_gemm_packed_at(
                  level, a, k, packed, k, n, &c, n, useBias ? bb.baseAddress : nil, useResidual ? rb.baseAddress : nil,
                  activation, 0, m, j0, j1)
              }
            }
            #expect(done == 1)
          }
          for i in 0..<m {
            for j in 0..<n {
              var sum = 0.0, scale = 0.0
              for l in 0..<k {
                sum += Double(a[i * k + l]) * Double(b[l * n + j])
                scale += abs(Double(a[i * k + l]) * Double(b[l * n + j]))
              }
              if useBias { sum += Double(bias[j]) }
              if useResidual { sum += Double(residual[i * n + j]) }
              let expected = Self.activate(sum, activation)
              #expect(
                abs(Double(c[i * n + j]) - expected) <= 1e-6 * (scale + 2),
                "level \(level) act \(activation) [\(i)][\(j)]: \(c[i * n + j]) vs \(expected)")
            }
          }
        }
      }
    }
  }

  @Test func reluKeepsNaN() {
    for level in Self.levels {
      let a: [Float] = [.nan], b: [Float] = [1]
      var packed = [Float](repeating: 0, count: netc_packed_size(1, 1))
      netc_pack_b(b, 1, 1, 1, &packed)
      for activation: Int32 in [1, 2] {
        var c: [Float] = [0]
        _ = netc_gemm_packed_at(level, a, 1, packed, 1, 1, &c, 1, nil, nil, activation, 0, 1, 0, 1)
        #expect(c[0].isNaN, "level \(level) activation \(activation)")
      }
    }
  }

  /// (channels, H, W, kernel, stride, pad, dilation)
  // The last five have rows wide enough for the AVX-512 kernel's blocks of 8 interior
  // positions: 32 x 20 pad 1 has interior columns 1..<19 (8 + 8 + a block moved back to
  // 11..<19); stride 2 on 23 columns, 10 interior; dilation 2 on 30 columns, 26 - 4 = 22
  // interior, with 17 channels (a masked tail of 1); then 17 channels on 20 columns at
  // stride 1 (18 interior) and on 40 at stride 2 (19 interior). Those 3 taps wide at
  // stride 1 or 2 (all but the dilated one) take the kernel that loads each input column
  // once per window row.
  @Test(arguments: [
    (3, 5, 6, 3, 1, 1, 1), (16, 7, 7, 3, 2, 1, 1), (70, 6, 5, 3, 1, 2, 2), (130, 4, 9, 5, 2, 2, 1),
    (64, 3, 3, 3, 1, 3, 1), (32, 5, 20, 3, 1, 1, 1), (24, 4, 23, 3, 2, 1, 1), (17, 9, 30, 5, 1, 2, 2),
    (17, 4, 20, 3, 1, 1, 1), (17, 5, 40, 3, 2, 1, 1),
  ])
  func depthwiseMatchesTheLoops(c: Int, h: Int, w: Int, kernel: Int, stride: Int, pad: Int, dilation: Int) {
    var numbers = Numbers(state: UInt64(c * 7 + h * 5 + kernel))
    let oh = (h + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1
    let ow = (w + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1
    let x = numbers.array(h * w * c), weights = numbers.array(kernel * kernel * c)
    let bias = numbers.array(c), residual = numbers.array(oh * ow * c)
    var g = netc_depthwise_geometry(
      channels: c, height: h, width: w, outWidth: ow, kernelH: kernel, kernelW: kernel, strideH: stride,
      strideW: stride, padH: pad, padW: pad, dilationH: dilation, dilationW: dilation)
    for level in Self.levels {
      for activation: Int32 in [0, 2] {
        var y = [Float](repeating: .nan, count: oh * ow * c)
        for row in 0..<oh {
          #expect(netc_depthwise_row_at(level, &g, x, weights, &y, bias, activation == 2 ? residual : nil, activation, row) == 1)
        }
        for r in 0..<oh {
          for q in 0..<ow {
            for ch in 0..<c {
              var sum = 0.0
              for i in 0..<kernel {
                for j in 0..<kernel {
                  let ih = r * stride - pad + i * dilation, iw = q * stride - pad + j * dilation
                  guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
                  sum += Double(x[(ih * w + iw) * c + ch]) * Double(weights[(i * kernel + j) * c + ch])
                }
              }
              sum += Double(bias[ch])
              if activation == 2 { sum += Double(residual[(r * ow + q) * c + ch]) }
              let expected = Self.activate(sum, activation), got = Double(y[(r * ow + q) * c + ch])
              #expect(abs(got - expected) <= 1e-5 * (abs(expected) + 1), "level \(level) [\(r)][\(q)][\(ch)]")
            }
          }
        }
      }
    }
  }

  /// (channels, H, W, kernel, stride, pad, dilationH): runs of 3 x 3 = 9 floats (one
  /// masked copy), 7 x 3 = 21 (a full copy and a masked one), 3 x 20 = 60, windows clipped
  /// by padding on every side, and a vertical dilation.
  @Test(arguments: [
    (3, 9, 10, 3, 2, 1, 1), (3, 15, 13, 7, 2, 3, 1), (20, 6, 7, 3, 1, 1, 1), (5, 8, 6, 2, 1, 1, 2), (1, 4, 4, 3, 1, 2, 1),
  ])
  func im2colCopiesEveryTap(c: Int, h: Int, w: Int, kernel: Int, stride: Int, pad: Int, dilation: Int) {
    var numbers = Numbers(state: UInt64(c * 11 + h * 3 + kernel))
    let oh = (h + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1
    let ow = (w + 2 * pad - kernel) / stride + 1
    let x = numbers.array(h * w * c), k = kernel * kernel * c
    var g = netc_depthwise_geometry(
      channels: c, height: h, width: w, outWidth: ow, kernelH: kernel, kernelW: kernel, strideH: stride,
      strideW: stride, padH: pad, padW: pad, dilationH: dilation, dilationW: 1)
    // The im2col row of position (r, q): tap (i, j), channel ch at i * kernel * c + j * c + ch.
    var expected = [Float](repeating: 0, count: oh * ow * k)
    for r in 0..<oh {
      for q in 0..<ow {
        for i in 0..<kernel {
          for j in 0..<kernel {
            let ih = r * stride - pad + i * dilation, iw = q * stride - pad + j
            guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
            for ch in 0..<c { expected[(r * ow + q) * k + (i * kernel + j) * c + ch] = x[(ih * w + iw) * c + ch] }
          }
        }
      }
    }
    for level in Self.levels {
      // Two calls, split mid-row, as the GEMM's tiles split the positions; the second half
      // first, so a call that wrote past its rows would spoil the other's, and 16 guard
      // floats after the end.
      let split = oh * ow / 2 + 1
      var col = [Float](repeating: .nan, count: oh * ow * k + 16)
      for (p0, p1) in [(split, oh * ow), (0, split)] {
        col.withUnsafeMutableBufferPointer { cb in
          #expect(netc_im2col_rows_at(level, &g, x, p0, p1, cb.baseAddress! + p0 * k) == 1)
        }
      }
      #expect(Array(col.prefix(oh * ow * k)) == expected, "level \(level)")
      let guardIntact = col.suffix(16).allSatisfy { $0.isNaN }
      #expect(guardIntact, "level \(level): written past the end")
    }
  }

  /// (channels, H, W, kh, kw, stride, pad, dilationH, outputs): a 7x7 stride-2 stem
  /// (15 positions a row: blocks of 8 and 7; two panels), a 3x3 one (13: one block), a 3x2
  /// window with vertical dilation (39: 13 + 13 + 13; a panel and 8 masked columns), padding
  /// wider than the window needs (20 outputs: 16 + 4 masked), a 1x1 conv whose row is one
  /// block of 12, a one-position row, and 16 channels in rows of 56 (4 x 14, the widest
  /// block).
  @Test(arguments: [
    (3, 15, 30, 7, 7, 2, 3, 1, 64), (3, 9, 26, 3, 3, 2, 1, 1, 32), (1, 6, 40, 3, 2, 1, 0, 2, 40),
    (4, 5, 5, 3, 3, 1, 2, 1, 20), (2, 4, 12, 1, 1, 1, 0, 1, 7), (3, 3, 3, 3, 3, 1, 0, 1, 33),
    (16, 4, 56, 3, 3, 1, 1, 1, 40),
  ])
  func directConvMatchesTheLoop(
    c: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Int, pad: Int, dilation: Int, n: Int
  ) {
    var numbers = Numbers(state: UInt64(c * 7 + h * 5 + kw + n))
    let oh = (h + 2 * pad - dilation * (kh - 1) - 1) / stride + 1, ow = (w + 2 * pad - kw) / stride + 1
    let k = kh * kw * c
    let x = numbers.array(h * w * c), b = numbers.array(k * n), bias = numbers.array(n)
    let residual = numbers.array(oh * ow * n)
    var packed = [Float](repeating: .nan, count: netc_packed_size(k, n))
    netc_pack_b(b, n, k, n, &packed)
    // The padded input as the kernel's contract has it: position (r, q) is the input's
    // (r - pad, q - pad), zero outside; rows and columns up to the last window's.
    let ph = (oh - 1) * stride + (kh - 1) * dilation + 1, pw = (ow - 1) * stride + kw
    var xpad = [Float](repeating: 0, count: ph * pw * c)
    for r in 0..<ph {
      for q in 0..<pw where r - pad >= 0 && r - pad < h && q - pad >= 0 && q - pad < w {
        for ch in 0..<c { xpad[(r * pw + q) * c + ch] = x[((r - pad) * w + q - pad) * c + ch] }
      }
    }
    var g = netc_depthwise_geometry(
      channels: c, height: h, width: w, outWidth: ow, kernelH: kh, kernelW: kw, strideH: stride, strideW: stride,
      padH: pad, padW: pad, dilationH: dilation, dilationW: 1)
    for activation: Int32 in [0, 1] {
      for useExtras in [false, true] {
        // Two calls, the later rows first, and 16 guard floats after the output.
        var y = [Float](repeating: .nan, count: oh * ow * n + 16)
        let split = oh / 2
        for (r0, r1) in [(split, oh), (0, split)] where r0 < r1 {
          let done = bias.withUnsafeBufferPointer { bb in
            residual.withUnsafeBufferPointer { rb in
              netc_conv_direct_rows(
                &g, xpad, pw, packed, n, &y, useExtras ? bb.baseAddress : nil, useExtras ? rb.baseAddress : nil,
                activation, r0, r1)
            }
          }
          #expect(done == (netc_kernel_level() >= 2 ? 1 : 0))
        }
        guard netc_kernel_level() >= 2 else { continue }
        for r in 0..<oh {
          for q in 0..<ow {
            for co in 0..<n {
              var sum = 0.0, scale = 0.0
              for i in 0..<kh {
                for j in 0..<kw {
                  let ih = r * stride - pad + i * dilation, iw = q * stride - pad + j
                  guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
                  for ch in 0..<c {
                    let term = Double(x[(ih * w + iw) * c + ch]) * Double(b[((i * kw + j) * c + ch) * n + co])
                    sum += term
                    scale += abs(term)
                  }
                }
              }
              if useExtras { sum += Double(bias[co]) + Double(residual[(r * ow + q) * n + co]) }
              let expected = Self.activate(sum, activation), got = y[(r * ow + q) * n + co]
              #expect(abs(Double(got) - expected) <= 1e-6 * (scale + 2), "[\(r)][\(q)][\(co)]: \(got) vs \(expected)")
            }
          }
        }
        let guardIntact = y.suffix(16).allSatisfy { $0.isNaN }
        #expect(guardIntact, "written past the end")
      }
    }
    // AVX2 has no direct kernel: the caller takes im2col instead.
    var untouched = [Float](repeating: 7, count: oh * ow * n)
    #expect(netc_conv_direct_rows_at(1, &g, xpad, pw, packed, n, &untouched, nil, nil, 0, 0, oh) == 0)
    #expect(untouched.allSatisfy { $0 == 7 })
  }

}

extension CNetcKernelsTests {
  /// (channels, H, W, kernel, stride, pad, dilation)
  @Test(arguments: [(3, 7, 6, 3, 2, 1, 1), (64, 8, 8, 3, 2, 1, 1), (21, 5, 5, 2, 1, 0, 2), (40, 4, 4, 3, 1, 2, 1)])
  func maxPoolMatchesTheLoop(c: Int, h: Int, w: Int, kernel: Int, stride: Int, pad: Int, dilation: Int) {
    var numbers = Numbers(state: UInt64(c * 3 + h + kernel))
    let oh = (h + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1
    let ow = (w + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1
    var x = numbers.array(h * w * c)
    x[c + 1] = .nan  // NaN wins wherever a window covers it
    var g = netc_depthwise_geometry(
      channels: c, height: h, width: w, outWidth: ow, kernelH: kernel, kernelW: kernel, strideH: stride,
      strideW: stride, padH: pad, padW: pad, dilationH: dilation, dilationW: dilation)
    for level in Self.levels {
      var y = [Float](repeating: 0, count: oh * ow * c)
      for row in 0..<oh { #expect(netc_maxpool_row_at(level, &g, x, &y, row) == 1) }
      for r in 0..<oh {
        for q in 0..<ow {
          for ch in 0..<c {
            var m = -Float.infinity
            for i in 0..<kernel {
              for j in 0..<kernel {
                let ih = r * stride - pad + i * dilation, iw = q * stride - pad + j * dilation
                guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
                let v = x[(ih * w + iw) * c + ch]
                if !m.isNaN && (v > m || v.isNaN) { m = v }
              }
            }
            let got = y[(r * ow + q) * c + ch]
            #expect(got == m || (got.isNaN && m.isNaN), "level \(level) [\(r)][\(q)][\(ch)]: \(got) vs \(m)")
          }
        }
      }
    }
  }
}

/// Level 0 (no SIMD) must decline and leave the output alone, on every CPU: the one check
/// of the C kernels that runs where the suite above is skipped.
@Suite struct CNetcKernelsDeclineTests {
  @Test func kernelsDeclineWithoutTheInstructions() {
    var c: [Float] = [7]
    #expect(netc_gemm_packed_at(0, [1], 1, [1], 1, 1, &c, 1, nil, nil, 0, 0, 1, 0, 1) == 0)
    #expect(c == [7])
  }
}
