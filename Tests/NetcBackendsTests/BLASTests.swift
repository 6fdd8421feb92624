import CNetcKernels
import Testing

/// BLAS as the interpreter calls it: OpenBLAS when it loads, the built-in loops otherwise;
/// both against plain arithmetic, with transposes and a non-zero beta.
@Suite struct BLASTests {
  @Test func gemmMatchesTheLoopsAndTheArithmetic() {
    // A = [[1, 2, 3], [4, 5, 6]] (2x3), B = [[1, 0], [0, 1], [1, 1]] (3x2):
    // A B = [[1 + 3, 2 + 3], [4 + 6, 5 + 6]] = [[4, 5], [10, 11]]; 2 A B + 1 C with C = 1s.
    let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [1, 0, 0, 1, 1, 1]
    var c: [Float] = [1, 1, 1, 1]
    netc_sgemm(0, 0, 2, 2, 3, 2, a, 3, b, 2, 1, &c, 2)
    #expect(c == [9, 11, 21, 23])
    var loops: [Float] = [1, 1, 1, 1]
    netc_sgemm_loops(0, 0, 2, 2, 3, 2, a, 3, b, 2, 1, &loops, 2)
    #expect(loops == c)
    // Aᵀ (3x2) times itself transposed back: Aᵀ A = [[17, 22, 27], [22, 29, 36], [27, 36, 45]].
    var ata = [Float](repeating: .nan, count: 9)
    netc_sgemm(1, 0, 3, 3, 2, 1, a, 3, a, 3, 0, &ata, 3)  // beta 0 ignores the NaNs
    #expect(ata == [17, 22, 27, 22, 29, 36, 27, 36, 45])
    var loopsATA = [Float](repeating: .nan, count: 9)
    netc_sgemm_loops(1, 0, 3, 3, 2, 1, a, 3, a, 3, 0, &loopsATA, 3)
    #expect(loopsATA == ata)
    // A Aᵀ = [[14, 32], [32, 77]] in fp64.
    let ad = a.map(Double.init)
    var aat = [Double](repeating: 0, count: 4)
    netc_dgemm(0, 1, 2, 2, 3, 1, ad, 3, ad, 3, 0, &aat, 2)
    #expect(aat == [14, 32, 32, 77])
  }

  @Test func gemvAddsToY() {
    // y += A x with x = (1, 1, 1): row sums 6 and 15, added to (1, 2).
    let a: [Float] = [1, 2, 3, 4, 5, 6]
    var y: [Float] = [1, 2]
    netc_sgemv(2, 3, a, 3, [1, 1, 1], &y)
    #expect(y == [7, 17])
    var yd: [Double] = [1, 2]
    netc_dgemv(2, 3, a.map(Double.init), 3, [1, 1, 1], &yd)
    #expect(yd == [7, 17])
  }

  @Test func openBLASIsAskedForTheKernelsTheCPUHas() {
    #expect(String(cString: netc_openblas_coretype(2)) == "SKYLAKEX")
    #expect(String(cString: netc_openblas_coretype(1)) == "HASWELL")
    #expect(netc_openblas_coretype(0) == nil)
    // On a machine with OpenBLAS (CI installs it) the loops are not what serves the calls.
    let name = String(cString: netc_blas_name())
    #expect(name.hasPrefix("OpenBLAS") || name == "built-in loops")
  }
}
