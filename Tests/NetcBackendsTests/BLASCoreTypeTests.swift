import Testing

@testable import NetcBackends

/// When netc asks OpenBLAS for other kernels than it chose itself.
@Suite struct BLASCoreTypeTests {
  static let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"]
  static let avx2: Set<String> = ["sse3", "avx", "avx2", "fma"]

  @Test func anUnrecognisedCPUWithAVX512GetsSkylakeXKernels() {
    #expect(BLASCoreType.override(coreName: "Prescott", cpuFlags: Self.avx512, environment: nil) == "SKYLAKEX")
  }

  @Test func anUnrecognisedCPUWithAVX2GetsHaswellKernels() {
    #expect(BLASCoreType.override(coreName: "Prescott", cpuFlags: Self.avx2, environment: nil) == "HASWELL")
    // AVX-512 F alone (no BW/DQ/VL, as on Knights Landing) is not enough for Skylake-X's kernels.
    #expect(BLASCoreType.override(coreName: "Core2", cpuFlags: Self.avx2.union(["avx512f"]), environment: nil) == "HASWELL")
  }

  @Test func openBLASsOwnChoiceStandsWhenItKnowsTheCPU() {
    for name in ["Haswell", "SkylakeX", "Cooperlake", "Zen", "SapphireRapids"] {
      #expect(BLASCoreType.override(coreName: name, cpuFlags: Self.avx512, environment: nil) == nil, "\(name)")
    }
  }

  @Test func aCPUWithoutAVX2KeepsTheGenericKernels() {
    #expect(BLASCoreType.override(coreName: "Prescott", cpuFlags: ["sse3", "avx"], environment: nil) == nil)
    #expect(BLASCoreType.override(coreName: "Sandybridge", cpuFlags: ["sse3", "avx", "fma"], environment: nil) == nil)
  }

  @Test func theUsersOPENBLASCORETYPEWins() {
    #expect(BLASCoreType.override(coreName: "Prescott", cpuFlags: Self.avx512, environment: "PRESCOTT") == nil)
  }

  @Test func cpuFlagsAreReadFromProcCpuinfo() {
    #if os(Linux) && arch(x86_64)
      // Every x86-64 CPU lists at least sse2 (AArch64's /proc/cpuinfo says "Features" instead).
      #expect(!BLASCoreType.cpuFlags().isEmpty)
    #endif
  }
}
