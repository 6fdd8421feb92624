import NetcBackends

#if canImport(Glibc)
  import Glibc
#endif

extension Netc {
  /// Re-executes this program with `OPENBLAS_CORETYPE` set when OpenBLAS fell back to
  /// slow generic kernels on a CPU it did not recognise (`BLASCoreType`). Only for the
  /// commands that run GEMMs, and only from the executable's `main`: it replaces the process.
  public static func relaunchForFasterBLASIfNeeded(_ arguments: [String]) {
    #if os(Linux)
      guard let command = arguments.first, command == "run" || command == "bench",
        let core = BLASCoreType.overrideForThisProcess()
      else { return }
      setenv("OPENBLAS_CORETYPE", core, 1)
      execv("/proc/self/exe", CommandLine.unsafeArgv)
    // exec failed (no /proc): carry on with the slow kernels rather than not at all.
    #endif
  }
}
