import Foundation
import NetcTestSupport
import Testing

/// `netc analyze --memory` end to end: the figures reach every format, and a spec with a
/// free var is refused instead of losing the memory silently.
@Suite(.serialized)
struct AnalyzeMemoryTests {
  @Test func jsonCarriesTotalsAndEveryTensor() throws {
    let result = try NetcProcess.run(["analyze", "specs/small-cnn.yaml", "--memory", "--format", "json"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let m = try #require(object["activation_memory"] as? [String: Any])
    // (3072 + 2·10240 + 2560 + 2·720 + 2·180 + 10) elements · 4 bytes; the relu's step
    // holds the conv's and its own 10240 elements.
    #expect(m["sum_bytes"] as? Int == 111_688)
    #expect(m["lower_bound_bytes"] as? Int == 81_920)
    #expect(m["lower_bound_at"] as? String == "relu1")
    // Nine nodes, none an alias: nine buffers.
    #expect((m["tensors"] as? [Any])?.count == 9)
    let layers = try #require(object["layers"] as? [[String: Any]])
    #expect(layers.first?["live_bytes"] as? Int == (3072 + 10240) * 4)
  }

  @Test func everyFormatShowsIt() throws {
    let table = try NetcProcess.run(["analyze", "specs/small-cnn.yaml", "--memory"]).stdout
    #expect(table.contains("total activation memory, lower bound  81,920 B (80.00 KiB) at fp32, while 'relu1' runs"))
    let markdown = try NetcProcess.run(["analyze", "specs/small-cnn.yaml", "--memory", "--format", "markdown"]).stdout
    #expect(markdown.contains("| activation bytes, lower bound | 81,920 |"))
    let csv = try NetcProcess.run(["analyze", "specs/small-cnn.yaml", "--memory", "--format", "csv", "--dtype", "fp16"]).stdout
    #expect(csv.hasPrefix("spec,name,op,depth,output,params,buffers,macs,activations,weight_bytes,live_bytes\n"))
    // fp16: conv1 (CONV3-10 on 3 channels) weighs (3·3·3·10 + 10) · 2 = 560 bytes; its step
    // holds the input and its output, (3072 + 10240) · 2 bytes.
    #expect(csv.contains(",560,26624\n"))
  }

  @Test func freeVarsAreRefused() throws {
    let result = try NetcProcess.run(["analyze", "specs/gpt2.yaml", "--memory"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("--memory needs every var of `specs/gpt2.yaml` bound: give --set T=N"))
  }
}
