import COpenBLAS

#if canImport(Glibc)
  import Glibc
#endif

/// OpenBLAS chooses its kernels by CPU model when it loads. A release older than the CPU
/// (Debian 12's 0.3.21 on an Emerald Rapids Xeon, family 6 model 207) does not know the
/// model and falls back to its SSE3 "Prescott" kernels, though the CPU has AVX-512:
/// ResNet-50 then ran in 430-820 ms instead of 100-190 ms (`netc run`, one thread,
/// measured 2026-11-29). `OPENBLAS_CORETYPE` overrides the choice, but only before the
/// library loads, so the `netc` executable re-executes itself with it set.
public enum BLASCoreType {
  /// OpenBLAS's kernel sets for CPUs without AVX2: on a CPU that has AVX2 they mean it
  /// did not recognise the model.
  static let preAVX2 = [
    "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Sandybridge", "Atom", "Katmai",
    "Coppermine", "Northwood", "Banias", "Athlon", "Opteron", "Opteron(SSE3)", "Barcelona",
    "Bobcat", "Bulldozer", "Piledriver", "Steamroller", "Excavator", "Nano", "Unknown",
  ]

  /// The core type to ask for, or nil when OpenBLAS's own choice stands: only when it chose
  /// a pre-AVX2 kernel set on a CPU whose flags show AVX2 and FMA (Haswell's kernels) or
  /// AVX-512 F/BW/DQ/VL (Skylake-X's), and the user has not set `OPENBLAS_CORETYPE`.
  public static func override(coreName: String, cpuFlags: Set<String>, environment: String?) -> String? {
    guard environment == nil, preAVX2.contains(where: { $0.lowercased() == coreName.lowercased() }) else {
      return nil
    }
    if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(cpuFlags.contains) { return "SKYLAKEX" }
    if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "HASWELL" }
    return nil
  }

  /// The override for this process (see `override`), or nil.
  public static func overrideForThisProcess() -> String? {
    #if os(Linux)
      guard let name = openblas_get_corename() else { return nil }
      let environment = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
      return override(coreName: String(cString: name), cpuFlags: cpuFlags(), environment: environment)
    #else
      return nil
    #endif
  }

  /// The feature flags of the first CPU in /proc/cpuinfo (empty where there is none).
  public static func cpuFlags() -> Set<String> {
    guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0, let line {
      let text = String(cString: line)
      if text.hasPrefix("flags") {
        return Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
      }
    }
    return []
  }
}
