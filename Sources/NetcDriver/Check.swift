import ArgumentParser
import NetcBackends
import NetcDiagnostics
import NetcFrontend
import NetcPasses

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Output formats of `check`.
enum CheckFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json, github, sarif
}

/// `netc check`: validates specs completely, for CI and pre-commit.
struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Validate specs: syntax, names, shapes, every constraint, budgets, and lint warnings.",
    discussion: """
      Takes files and directories (searched recursively for *.yaml and *.yml, \
      skipping hidden ones) and reports every problem of every spec, sorted by file \
      and position. In a directory, a YAML file with none of the top-level keys \
      `netspec`, `input` and `layers` is not a spec (a workflow, a weights file): it is \
      skipped, and a note says how many were.

      Exit status: 0 when all pass, 1 when a spec has an error (or a warning, with \
      --werror), 2 on usage or I/O errors. Diagnostic codes are listed in docs/check.md.
      """
  )

  @Argument(help: "Spec files and directories.")
  var paths: [String]

  @Option(
    help: "Output format: text (people), json, github (Actions annotations), sarif (code scanning)."
  )
  var format: CheckFormat = .text

  @Flag(help: "Treat warnings as errors: exit 1 when there is any.")
  var werror = false

  func validate() throws {
    guard !paths.isEmpty else { throw ValidationError("give at least one spec file or directory") }
  }

  func run() throws {
    var run = CheckRun()
    for path in paths { run.add(path) }
    for file in run.files { run.check(file) }
    run.finish()

    let text: String
    switch format {
    case .text:
      text = DiagnosticRenderer(sources: run.sources, colored: Output.error.wantsColor).render(
        run.diagnostics)
    case .json: text = DiagnosticJSON().render(run.diagnostics)
    case .github: text = GitHubAnnotations().render(run.diagnostics)
    case .sarif:
      text = SARIFRenderer(toolVersion: Netc.configuration.version).render(run.diagnostics)
    }
    let errors = run.diagnostics.filter { $0.severity == .error }.count
    let warnings = run.diagnostics.filter { $0.severity == .warning }.count
    if format == .text {
      Output.error.write(text)
      Output.error.write(
        "netc: checked \(counted(run.files.count - run.skipped.count, "spec")): \(counted(errors, "error")), \(counted(warnings, "warning"))\n"
      )
    } else {
      Output.standard.write(text.isEmpty || text.hasSuffix("\n") ? text : text + "\n")
    }
    if let note = run.skippedNote { Output.error.write("netc: note: \(note)\n") }
    let code = run.exitCode(werror: werror)
    if code != 0 { throw ExitCode(code) }
  }

}

/// The state of one `netc check`: the files found, what they say, whether any was unreadable.
struct CheckRun {
  /// Spec files to check, in the order found (directories' entries sorted by name).
  var files: [String] = []
  /// Every diagnostic of every file.
  var diagnostics: [Diagnostic] = []
  /// The files read, for snippets under text diagnostics.
  var sources: [SourceFile] = []
  /// True when a path could not be read: exit 2.
  var ioFailed = false
  /// The directory argument each file was found under (files given as such have none).
  var foundUnder: [String: String] = [:]
  /// Files found under a directory that are not specs (`SpecLoader.isSpecDocument`), in order.
  var skipped: [String] = []
  /// The directories given, in order.
  var directories: [String] = []

  /// 2 when a path could not be read, else 1 when there is an error (or, with `werror`,
  /// a warning), else 0.
  func exitCode(werror: Bool) -> Int32 {
    if ioFailed { return 2 }
    let failing = diagnostics.contains {
      $0.severity == .error || (werror && $0.severity == .warning)
    }
    return failing ? 1 : 0
  }

  /// The deepest directory nesting followed; deeper trees are reported, not walked.
  static let maxDirectoryDepth = 64

  /// Adds a path given on the command line: a file as is, a directory searched.
  mutating func add(_ path: String) {
    var info = stat()
    guard stat(path, &info) == 0 else {
      ioError("cannot read `\(path)`: \(describe(errno))", path)
      return
    }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      let before = files.count
      walk(path, depth: 0)
      if files.count == before {
        ioError("no spec files (*.yaml, *.yml) under `\(path)`", path)
      }
      directories.append(path)
      for file in files[before...] where foundUnder[file] == nil { foundUnder[file] = path }
    } else {
      files.append(path)
    }
  }

  /// A spec whose repeat counts are vars: some combination of their values (and of the
  /// other vars) must satisfy every constraint; lint speaks for the first lowering.
  mutating func checkRepeated(_ repeated: RepeatVarSolve) {
    var found: [Diagnostic] = []
    do {
      let s = try repeated.solve(options: SolveOptions(list: 0))
      if s.count.isZero, let failure = s.failure { found.append(failure) }
      for values in try repeated.combinations() {
        guard let spec = try? repeated.spec(values) else { continue }
        found += checkSpec(spec.graph, unusedVars: spec.unusedVars, unusedBlocks: spec.unusedBlocks).filter { $0.severity != .error }
        break
      }
    } catch {
      found += error.diagnostics
    }
    diagnostics += found.filter { !Self.isAllowed($0, in: repeated.source) }
  }

  /// Reads, lowers and checks one file, keeping every diagnostic.
  mutating func check(_ path: String) {
    let source: SourceFile
    do {
      source = try SpecFileLoader.load(path: path)
    } catch {
      if error.diagnostics.contains(where: { $0.code == .io }) { ioFailed = true }
      diagnostics += error.diagnostics
      return
    }
    let root: YAMLNode?
    do { root = try YAMLReader.read(source) } catch {
      sources.append(source)
      diagnostics += error.diagnostics
      return
    }
    if foundUnder[path] != nil && !SpecLoader.isSpecDocument(root) {
      skipped.append(path)
      return
    }
    sources.append(source)
    if let repeated = RepeatVarSolve(source: source, fixed: [:]) {
      checkRepeated(repeated)
      return
    }
    do {
      let spec = try SpecLoader.lower(root, source: source)
      let found = checkSpec(spec.graph, unusedVars: spec.unusedVars, unusedBlocks: spec.unusedBlocks)
      diagnostics += found.filter { !Self.isAllowed($0, in: source) }
      // Weight shapes need concrete layer shapes: with free vars or shape errors, the
      // errors above come first and the weights wait for a spec that lowers.
      if let weights = spec.weights, spec.graph.vars.isEmpty, !found.contains(where: { $0.severity == .error }),
        let shapes = try? inferShapes(spec.graph, bindings: [:])
      {
        do {
          _ = try WeightBinding.bind(spec.graph, shapes, sources: [.mapping(weights, file: path)], seed: 0, as: Float.self)
        } catch {
          diagnostics += error.diagnostics
        }
      }
    } catch {
      diagnostics += error.diagnostics
    }
  }

  /// After every file is checked: a directory whose YAML files were all skipped holds no
  /// spec, as an empty one does (exit 2).
  mutating func finish() {
    let skippedSet = Set(skipped)
    for dir in directories {
      let found = foundUnder.filter { $0.value == dir }.map(\.key)
      if !found.isEmpty && found.allSatisfy(skippedSet.contains) {
        let which = found.count == 1 ? "its only YAML file is not a spec" : "none of its \(found.count) YAML files is a spec"
        ioError("no spec files under `\(dir)`: \(which)", dir)
      }
    }
  }

  /// The note on the files skipped as not specs, naming them (the first five), or nil.
  var skippedNote: String? {
    guard !skipped.isEmpty else { return nil }
    let names = skipped.prefix(5).map { "`\($0)`" }.joined(separator: ", ") + (skipped.count > 5 ? ", ..." : "")
    return "skipped \(counted(skipped.count, "non-spec YAML file")) (no `netspec`, `input` or `layers` key): \(names)"
  }

  /// Whether a warning is silenced by a comment on the line it points at:
  /// `- CONV9-96 stride 3   # netc: allow NS501 (the exercise drops a row on purpose)`.
  static func isAllowed(_ d: Diagnostic, in source: SourceFile) -> Bool {
    guard d.severity == .warning, let line = d.range.flatMap({ source.line($0.start.line) }) else { return false }
    for comment in line.split(separator: "#").dropFirst() {
      let words = comment.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" })
      guard words.count >= 3, words[0] == "netc:", words[1] == "allow" else { continue }
      if words.dropFirst(2).contains(where: { $0 == d.code.rawValue }) { return true }
    }
    return false
  }

  /// Collects the spec files under `directory`, in name order, not following links to
  /// directories (a link cycle would never end) and skipping hidden entries (`.git`).
  private mutating func walk(_ directory: String, depth: Int) {
    guard depth < Self.maxDirectoryDepth else {
      ioError("`\(directory)` nests more than \(Self.maxDirectoryDepth) directories deep", directory)
      return
    }
    guard let dir = opendir(directory) else {
      ioError("cannot read `\(directory)`: \(describe(errno))", directory)
      return
    }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      if name.hasPrefix(".") { continue }
      names.append(name)
    }
    closedir(dir)
    for name in names.sorted() {
      let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
      var info = stat()
      guard lstat(path, &info) == 0 else { continue }
      switch info.st_mode & S_IFMT {
      case S_IFDIR: walk(path, depth: depth + 1)
      case S_IFREG, S_IFLNK:
        // A link counts when it leads to a regular file: opening one to a FIFO would wait.
        var target = stat()
        let regular = stat(path, &target) == 0 && (target.st_mode & S_IFMT) == S_IFREG
        if regular && (name.hasSuffix(".yaml") || name.hasSuffix(".yml")) { files.append(path) }
      default: break
      }
    }
  }

  private mutating func ioError(_ message: String, _ path: String) {
    ioFailed = true
    diagnostics.append(.error(.io, message, at: nil).about(path))
  }

  private func describe(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    let message = String(cString: text)
    return (message.first?.lowercased() ?? "") + message.dropFirst()
  }
}
