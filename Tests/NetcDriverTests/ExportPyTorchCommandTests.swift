import Foundation
import NetcTestSupport
import Testing

/// `netc export --to pytorch`: the file it writes, its report line and its errors. What
/// the module computes is checked in PyTorch by scripts/pytorch/verify_pytorch_export.py.
@Suite struct ExportPyTorchCommandTests {
  func temporary(_ name: String) -> String { NSTemporaryDirectory() + "netc-pytorch-\(UUID().uuidString)-\(name)" }

  @Test func writesTheModule() throws {
    let path = temporary("small_cnn.py")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try NetcProcess.run(["export", "specs/small-cnn.yaml", "--to", "pytorch", "-o", path])
    #expect(r.status == 0, "\(r.stderr)")
    // 8 layers; conv1, conv2 and fc1 each a weight and a bias: 6 tensors.
    #expect(r.stdout == "wrote \(path): PyTorch module `SmallCnn` (1 class, 8 layers, 6 weight tensors for load_netc_weights)\n")
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("class SmallCnn(nn.Module):"))
    #expect(text.contains("def load_netc_weights(model, directory, strict=True):"))
  }

  @Test func anUnboundVarIsNamed() throws {
    let r = try NetcProcess.run(["export", "specs/gpt2.yaml", "--to", "pytorch", "-o", temporary("gpt2.py")])
    #expect(r.status == 1)
    #expect(r.stderr.contains("specs/gpt2.yaml:9:8: error[NS305]: `T` has no value here"), "\(r.stderr)")
    #expect(r.stderr.contains("bind it with `--set T=N`"), "\(r.stderr)")
  }

  @Test func aMixtureOfExpertsIsWritten() throws {
    let path = temporary("mixtral.py")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try NetcProcess.run(["export", "specs/mixtral_8x7b.yaml", "--to", "pytorch", "--set", "T=4", "-o", path])
    #expect(r.status == 0, "\(r.stderr)")
    // Tensors: the embedding, 32 blocks of 2 norms, 4 projections, the router and the
    // experts' stacked w1, w3 and w2 (10 each), the final norm and the head: 1 + 320 + 2.
    #expect(r.stdout.contains("323 weight tensors for load_netc_weights"), "\(r.stdout)")
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("self.router = nn.Linear(4096, 8, bias=False)"))
    #expect(text.contains("self.experts = nn.ModuleList([Expert() for _ in range(8)])"))
    #expect(text.contains("picked[..., :2]"))
  }

  @Test func anEncoderDecoderTakesBothInputs() throws {
    let path = temporary("transformer_base.py")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try NetcProcess.run(
      ["export", "specs/transformer_base.yaml", "--to", "pytorch", "--set", "S=7", "--set", "T=5", "-o", path])
    #expect(r.status == 0, "\(r.stderr)")
    let text = try String(contentsOfFile: path, encoding: .utf8)
    // torch.nn.Transformer's call: the source, then the target, each [N, L, 512].
    #expect(text.contains("def forward(self, src, tgt):"), "\(text)")
    #expect(text.contains("INPUT_SHAPES = {\"src\": (7, 512), \"tgt\": (5, 512)}"), "\(text)")
  }

  @Test func anUnwritableFileIsAnIOError() throws {
    let r = try NetcProcess.run(["export", "specs/small-cnn.yaml", "--to", "pytorch", "-o", "/nonexistent-dir/x.py"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("netc: error: cannot write `/nonexistent-dir/x.py`"), "\(r.stderr)")
  }
}
