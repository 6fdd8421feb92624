import Foundation
import NetcPasses
import NetcTestSupport
import Testing

@testable import NetcDriver

/// Runs netc in-process with standard output and error captured through temporary files.
/// Swift Testing may write its own progress to standard error meanwhile, so callers look
/// for their message in `err` rather than compare it whole.
func capture(_ arguments: [String]) -> (code: Int32, out: String, err: String) {
  // Suites run in parallel: two captures interleaved swap each other's streams, and a
  // test printing meanwhile would print into this one's files.
  standardStreamsLock.lock()
  defer { standardStreamsLock.unlock() }
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-run-\(UUID().uuidString)")
  try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  let outPath = dir.appendingPathComponent("out").path, errPath = dir.appendingPathComponent("err").path
  let savedOut = dup(1), savedErr = dup(2)
  let o = open(outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644), e = open(errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
  fflush(nil)
  dup2(o, 1)
  dup2(e, 2)
  let code = Netc.run(arguments)
  fflush(nil)
  dup2(savedOut, 1)
  dup2(savedErr, 2)
  close(o); close(e); close(savedOut); close(savedErr)
  let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
  let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
  try? FileManager.default.removeItem(at: dir)
  return (code, out, err)
}

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Tests share standard output, so they run one at a time.
@Suite(.serialized) struct RunCommandTests {
  /// The spec page's JSON example: the MLP of specs/run-mlp3.yaml (arithmetic in the spec
  /// and in NetcBackendsTests/ExerciseTests): loss 9, dW1 = [[0, 0], [-6, 6]], dx = (0, -6).
  @Test func jsonAsTheSpecPageShows() {
    let r = capture([
      "run", "\(repoRoot)/specs/run-mlp3.yaml", "--input", "[1, -1]", "--target", "2", "--loss", "sse", "--grad", "--trace", "--format",
      "json",
    ])
    #expect(r.code == 0, "\(r.err)")
    #expect(
      r.out == """
        {
          "output": [-1],
          "loss": 9,
          "gradients": {
            "l1.weight": [[0, 0], [-6, 6]],
            "l2.weight": [[-6, 6], [-6, 6]],
            "l3.weight": [[0, 6]],
            "input": [0, -6]
          },
          "trace": {
            "l1": [1, -1],
            "l2": [0, -1],
            "l3": [-1]
          }
        }

        """)
  }

  /// The checkerboard (specs/run-checkerboard.yaml): 5/9 = 0.5555556 and 4/9 = 0.44444445
  /// as the shortest Float decimals; in f64, 0.5555555555555556 and 0.4444444444444444.
  @Test func checkerboardTextAndPrecision() {
    let spec = "\(repoRoot)/specs/run-checkerboard.yaml", input = "\(repoRoot)/specs/run-checkerboard.input.json"
    let r = capture(["run", spec, "--input", input])
    #expect(r.code == 0, "\(r.err)")
    #expect(r.out.hasPrefix("output (6x6x1, shown as 6x6):\n  [[0.5555556, 0.44444445, 0.5555556, 0.44444445, 0.5555556, 0.44444445],\n"))
    let d = capture(["run", spec, "--input", input, "--precision", "f64", "--format", "json"])
    #expect(d.out.contains("[[0.5555555555555556], [0.4444444444444444], "))
  }

  @Test func saveWritesNpyFiles() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-save-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = capture([
      "run", "\(repoRoot)/specs/run-conv1d.yaml", "--input", "[[1], [0], [2], [-1], [3]]", "--target", "1", "--loss", "half-sse", "--grad",
      "--save", dir,
    ])
    #expect(r.code == 0, "\(r.err)")
    for name in ["output.npy", "loss.npy", "gradients/conv.weight.npy", "gradients/fc.bias.npy", "gradients/input.npy"] {
      #expect(FileManager.default.fileExists(atPath: "\(dir)/\(name)"), "\(name)")
    }
    // Read back through --input: the saved input gradient is 5x1 like the input.
    let back = capture(["run", "\(repoRoot)/specs/run-conv1d.yaml", "--input", "\(dir)/gradients/input.npy", "--format", "json"])
    #expect(back.code == 0, "\(back.err)")
  }

  /// specs/run-mlp3.yaml on [1, -1] gives -1 (the JSON test above); on [1, 1] it is the
  /// same network on another input, so a number must give exactly what its filled list gives.
  @Test func aNumberFillsTheInput() {
    let filled = capture(["run", "\(repoRoot)/specs/run-mlp3.yaml", "--input", "[1, 1]", "--format", "json"])
    let number = capture(["run", "\(repoRoot)/specs/run-mlp3.yaml", "--input", "1", "--format", "json"])
    #expect(number.code == 0, "\(number.err)")
    #expect(number.out == filled.out)
  }

  @Test(arguments: [
    (["--input", "[1, 2, 3]"], Int32(2), "netc: error: the input is 3, the spec's input is 2"),
    (["--input", "[1, -1]", "--grad"], Int32(2), "--grad needs a loss"),
    (["--input", "[1, -1]", "--target", "[1, 2]", "--loss", "sse"], Int32(2), "--target: the target is 2, the output is 1"),
    (["--input", "[1, -1]", "--target", "3", "--loss", "cross-entropy"], Int32(2), "cross-entropy needs a class index from 0 to 0, got 3"),
    (["--input", "missing.npy"], Int32(2), "cannot read `missing.npy`"),
    (["--input", "[1, [2]]"], Int32(2), "error[NS101]: expected a number, got a list"),
    // Float.greatestFiniteMagnitude is about 3.4e38.
    (["--input", "[1e40, 1]"], Int32(2), "--input:1:2: error[NS107]: 1e40 is out of range for fp32"),
  ])
  func badArgumentsAreReported(_ extra: [String], _ code: Int32, _ message: String) {
    let r = capture(["run", "\(repoRoot)/specs/run-mlp3.yaml"] + extra)
    #expect(r.code == code)
    #expect(r.err.contains(message), "\(r.err)")
  }

  /// Token ids are rows of the embedding's table: an id outside it, or not a whole number,
  /// is named with its position and the vocabulary; a tied layer's weight is its owner's.
  @Test(arguments: [
    (["--input", "[1, 2, 9, 0]"], Int32(2), "token id 9 at position 2 is outside the vocabulary of `wte` (ids 0..<9)"),
    (["--input", "[1, -1, 3, 0]"], Int32(2), "token id -1 at position 1 is outside the vocabulary of `wte`"),
    (["--input", "[1, 2, 3.5, 0]"], Int32(2), "token id 3.5 at position 2"),
    (
      ["--input", "[1, 2, 3, 0]", "--weights", "WEIGHTS"], Int32(1), "`head` shares the weight of `wte` (`tie`); give `wte.weight` instead"
    ),
    (["--input", "[1, 2, 3, 0]"], Int32(0), "output (4x9)"),
  ])
  func tokenInputs(_ extra: [String], _ code: Int32, _ message: String) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-tokens-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let spec = dir.appendingPathComponent("lm.yaml").path
    try "name: lm\ninput: 4 tokens\nlayers: [EMBED-4 vocab 9 name wte, LN, LINEAR-9 bias false tie wte name head]\n".write(
      toFile: spec, atomically: true, encoding: .utf8)
    let weights = dir.appendingPathComponent("w.yaml").path
    try "head: {weight: 0.5}\n".write(toFile: weights, atomically: true, encoding: .utf8)
    let r = capture(["run", spec] + extra.map { $0 == "WEIGHTS" ? weights : $0 })
    #expect(r.code == code, "\(r.err)")
    #expect((r.err + r.out).contains(message), "\(r.err)")
  }

  /// `--profile` alone times 10 passes; the conv and its ReLU are one step, then the pool,
  /// the flatten and the FC (specs/run-conv1d.yaml); the output is unchanged.
  @Test func profilePrintsOneRowPerStep() {
    let r = capture(["run", "\(repoRoot)/specs/run-conv1d.yaml", "--input", "[[1], [0], [2], [-1], [3]]", "--profile"])
    #expect(r.code == 0, "\(r.err)")
    #expect(r.out.contains("0.5"))
    // Suites running beside this one write to the same process's stderr while it is
    // captured here: keep the profile's own lines (its header, numbered steps, the total and
    // the pass's timing).
    let lines = r.err.split(separator: "\n").map(String.init).filter { line in
      line.hasPrefix("step ") || line.contains("total of the steps") || line.contains("forward: median")
        || line.drop(while: \.isWhitespace).first?.isNumber == true
    }
    #expect(lines.count == 7, "\(r.err)")
    guard lines.count == 7 else { return }
    #expect(lines[0] == "step     ms   best  share  GFLOP/s  layer")
    // A step's best time is at most its median.
    for line in lines[1...4] {
      let fields = line.split(separator: " ")
      if let median = Double(fields[1]), let best = Double(fields[2]) {
        #expect(best <= median, "\(line)")
      } else {
        Issue.record("no median and best in \(line)")
      }
    }
    // The layer column starts where the header's "layer" does.
    let column = lines[0].count - "layer".count
    let layers = lines[1...4].map { String($0.dropFirst(column)) }
    #expect(layers == ["conv (+ relu1)", "pool1", "flatten1", "fc"])
    #expect(lines[5].hasSuffix("total of the steps"))
    #expect(lines[6].hasPrefix("forward: median ") && lines[6].contains(" over 10 runs"))
  }

  @Test func wrongWeightShapeInTheSpecExitsOne() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-w-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let spec = dir.appendingPathComponent("s.yaml").path
    try "name: s\ninput: 2\nlayers: [FC-2 name l1]\nweights:\n  l1: { weight: [[1, 2, 3]] }\n".write(
      toFile: spec, atomically: true, encoding: .utf8)
    let r = capture(["run", spec, "--input", "[1, 1]"])
    #expect(r.code == 1)
    #expect(r.err.contains("s.yaml:5:17: error[NS401]: `l1.weight` is 1x3, expected 2x2 ([out][in])"), "\(r.err)")
  }

  @Test func aSpecTooLargeForMemoryIsAnErrorNotACrash() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-m-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let spec = dir.appendingPathComponent("s.yaml").path
    // 10 * 2e9 weights + 2e9 biases = 2.2e10 parameters: 88 GB in fp32 for one copy alone.
    try "name: s\ninput: 10\nlayers:\n  - FC-2000000000 name huge\n".write(toFile: spec, atomically: true, encoding: .utf8)
    let r = capture(["run", spec, "--input", "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"])
    #expect(r.code == 1)
    #expect(r.err.contains("s.yaml:4:5: error[NS404]: running this spec needs about"), "\(r.err)")
    #expect(r.err.contains("22,000,000,000 parameters"), "\(r.err)")
    #expect(r.err.contains("'huge' is the largest"), "\(r.err)")
    let e = capture(["emit", spec, "-o", dir.appendingPathComponent("Huge.swift").path])
    #expect(e.code == 1)
    #expect(e.err.contains("error[NS404]: running this spec needs about"), "\(e.err)")
  }

  @Test func theMemoryEstimateCountsWeightCopiesActivationsAndGradients() {
    var cost = Cost()
    cost.params = 100
    cost.buffers = 10
    cost.activations = 1000
    // fp32: 4 * (3 * (100 + 10) + 1000) = 5,320; the unfused pass packs a fourth copy,
    // 4 * (4 * 110 + 1000) = 5,760; with gradients too 4 * (1,440 + 100 + 1000) = 10,160.
    #expect(MemoryCheck.estimate(cost, elementSize: 4, gradients: false) == 5_320)
    #expect(MemoryCheck.estimate(cost, elementSize: 4, gradients: false, unfused: true) == 5_760)
    #expect(MemoryCheck.estimate(cost, elementSize: 4, gradients: true) == 10_160)
    cost.params = Int.max / 2
    #expect(MemoryCheck.estimate(cost, elementSize: 8, gradients: false) == nil)
  }

  @Test func weightsDirectoryAndFile() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netc-wd-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("npy"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let spec = dir.appendingPathComponent("s.yaml").path
    try "name: s\ninput: 2\nlayers: [FC-1 name f]\n".write(toFile: spec, atomically: true, encoding: .utf8)
    // A JSON weights file: y = 2*1 + 3*1 + 1 = 6.
    let json = dir.appendingPathComponent("w.json").path
    try #"{"f": {"weight": [[2, 3]], "bias": [1]}}"#.write(toFile: json, atomically: true, encoding: .utf8)
    let r = capture(["run", spec, "--input", "[1, 1]", "--weights", json, "--format", "json"])
    #expect(r.out.contains("\"output\": [6]"), "\(r.err)")
    // A directory of .npy: f.weight = [[0.5, 0.25]] (no bias file: the seeded init fills it).
    let npy = Data(NpyFileBytes.float32([1, 2], [0.5, 0.25]))
    try npy.write(to: dir.appendingPathComponent("npy/f.weight.npy"))
    try Data(NpyFileBytes.float32([1], [0])).write(to: dir.appendingPathComponent("npy/f.bias.npy"))
    let d = capture(["run", spec, "--input", "[4, 8]", "--weights", dir.appendingPathComponent("npy").path, "--format", "json"])
    #expect(d.out.contains("\"output\": [4]"), "\(d.err)")  // 0.5*4 + 0.25*8 + 0 = 4
    try Data(NpyFileBytes.float32([1], [0])).write(to: dir.appendingPathComponent("npy/g.bias.npy"))
    let bad = capture(["run", spec, "--input", "[4, 8]", "--weights", dir.appendingPathComponent("npy").path])
    #expect(bad.code == 1)
    #expect(bad.err.contains("weights for `g` (in `"), "\(bad.err)")
  }
}

/// Builds .npy bytes by hand (format 1.0, `<f4`), independently of netc's writer.
enum NpyFileBytes {
  static func float32(_ shape: [Int], _ values: [Float]) -> [UInt8] {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
    header += String(repeating: " ", count: 63 - (10 + header.utf8.count) % 64) + "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
    return bytes
  }
}
