/// The Swift `main` that `netc bench` compiles with the emitted network: it measures this
/// core's FP32 peak, runs the network, and prints one `key value` per line.
enum BenchDriver {
  /// The driver's source for the emitted class `type`, its peak measured with vectors of
  /// `lanes` floats (the kernels' width).
  static func source(type: String, lanes: Int) -> String {
    let v = "SIMD\(lanes)<Float>"
    return
      """
      import Foundation
      #if canImport(Glibc)
        import Glibc
      #endif

      func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
      }

      /// Peak FP32: 12 independent chains of \(v) FMAs (enough to cover the FMA latency
      /// on two pipes), 2 FLOPs per lane; the best of 5 runs of 20M iterations. The chains
      /// live in a non-inlined function fed through memory, which keeps all 12 in registers.
      @inline(never) func fmaLoop(_ p: UnsafeMutablePointer<\(v)>, _ n: Int) {
        let m = p[12], c = p[13]
        var a0 = p[0], a1 = p[1], a2 = p[2], a3 = p[3], a4 = p[4], a5 = p[5]
        var a6 = p[6], a7 = p[7], a8 = p[8], a9 = p[9], a10 = p[10], a11 = p[11]
        for _ in 0..<n {
          a0 = a0.addingProduct(m, c); a1 = a1.addingProduct(m, c); a2 = a2.addingProduct(m, c)
          a3 = a3.addingProduct(m, c); a4 = a4.addingProduct(m, c); a5 = a5.addingProduct(m, c)
          a6 = a6.addingProduct(m, c); a7 = a7.addingProduct(m, c); a8 = a8.addingProduct(m, c)
          a9 = a9.addingProduct(m, c); a10 = a10.addingProduct(m, c); a11 = a11.addingProduct(m, c)
        }
        p[0] = a0; p[1] = a1; p[2] = a2; p[3] = a3; p[4] = a4; p[5] = a5
        p[6] = a6; p[7] = a7; p[8] = a8; p[9] = a9; p[10] = a10; p[11] = a11
      }

      func peakGFLOPS() -> Double {
        let p = UnsafeMutablePointer<\(v)>.allocate(capacity: 14)
        defer { p.deallocate() }
        var best = 0.0
        for run in 0..<5 {
          for i in 0..<12 { p[i] = \(v)(repeating: Float(i)) }
          p[12] = \(v)(repeating: 1e-7 * Float(run + 1))
          p[13] = \(v)(repeating: 0.5)
          let n = 20_000_000
          let start = now()
          fmaLoop(p, n)
          best = max(best, Double(n) * 12 * \(lanes) * 2 / (now() - start) / 1e9)
        }
        return best
      }

      let dir = CommandLine.arguments[1]
      let budget = Double(CommandLine.arguments[2])!
      let net = try! \(type)(weightsFile: dir + "/net.weights")
      let input = (try! Data(contentsOf: URL(fileURLWithPath: dir + "/input.bin"))).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
      var output = [Float](repeating: 0, count: \(type).outputCount)
      let steps = \(type).stepLayers.count
      input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
          net.forward(x.baseAddress!, y.baseAddress!)  // warm up
          let first = now()
          net.forward(x.baseAddress!, y.baseAddress!)
          let once = now() - first
          let runs = max(5, min(2000, Int(budget / max(once, 1e-7))))
          var totals: [Double] = []
          for _ in 0..<runs {
            let t0 = now()
            net.forward(x.baseAddress!, y.baseAddress!)
            totals.append(now() - t0)
          }
          var perStep = [[Double]](repeating: [], count: steps)
          for _ in 0..<runs {
            var last = now()
            net.forward(x.baseAddress!, y.baseAddress!) { k in
              let t = now()
              perStep[k].append(t - last)
              last = t
            }
          }
          func median(_ v: [Double]) -> Double { let s = v.sorted(); return s[s.count / 2] }
          print("runs \\(runs)")
          print("total \\(median(totals))")
          for k in 0..<steps { print("step \\(k) \\(median(perStep[k]))") }
        }
      }
      try! output.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: dir + "/output.bin"))
      print("peak \\(peakGFLOPS())")
      """
  }
}
