import NetcDiagnostics
import NetcFrontend
import NetcIR
import NetcPasses

#if canImport(Glibc)
  import Glibc
#endif

/// libFuzzer's entry point: one spec with vars through `netc solve`'s search (listing the
/// first solutions, as `netc solve --max 16` does, and counting them) and `analyze`'s
/// symbolic analysis in the free vars. Any diagnostic is fine (a search too large says so
/// with its size); a crash, a trap, or a solve slower than `budget` is a finding. The
/// search's limit bounds its work (every candidate tried at every node counts), and each
/// candidate costs about 10 us under the address sanitizer (1-3 us in a release build):
/// the budget allows 20 us for each of the `limit` candidates and the 50,000 of the search
/// for a failure's whole assignments, so a slow solve is one whose work per candidate
/// exploded, or work that no limit counts.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSolver(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  guard let source = try? SpecFileLoader.source(bytes: bytes, path: "fuzz.yaml"),
    let spec = try? SpecLoader.parse(source), !spec.graph.vars.isEmpty
  else { return 0 }
  let start = seconds()
  var diagnostics: [Diagnostic] = []
  do {
    let found = try solve(spec.graph, options: SolveOptions(list: 16, limit: limit))
    if let failure = found.failure { diagnostics.append(failure) }
    precondition(found.listed.count <= 16, "listed \(found.listed.count) solutions, asked for 16")
    precondition(found.count.isZero == found.listed.isEmpty, "count \(found.count) with \(found.listed.count) listed")
    for solution in found.listed { precondition(solution.count == found.vars.count, "a solution of \(solution.count) values") }
  } catch {
    diagnostics += error.diagnostics
  }
  let solved = seconds() - start
  if solved > budget {
    fatalError("solve took \(solved) s, over the budget of \(budget) s (limit \(limit))")
  }
  let free = spec.graph.vars.map(\.name)
  do { _ = try analyzeSymbolic(spec.graph, bindings: [:], free: free) } catch { diagnostics += error.diagnostics }
  let analyzed = seconds() - start - solved
  if analyzed > budget {
    fatalError("the symbolic analysis took \(analyzed) s, over the budget of \(budget) s")
  }
  _ = DiagnosticRenderer(sources: [source]).render(diagnostics)
  return 0
}

/// The search limit (combinations and states) and the CPU time one input may take, in seconds.
let limit = 300_000
let budget = 7.0

/// This thread's CPU time: a solve starved of the CPU by other work on the machine is not
/// a slow solve.
func seconds() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
