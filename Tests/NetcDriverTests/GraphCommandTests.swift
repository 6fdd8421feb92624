import Foundation
import NetcTestSupport
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// `netc graph` end to end. The box and edge counts are worked out by hand from the specs,
/// not read from the program; the golden pins the presentation of one small picture.
@Suite(.serialized)
struct GraphCommandTests {
  /// Counts a picture's elements while checking it is well-formed XML.
  final class SVGCounter: NSObject, XMLParserDelegate {
    var nodes = 0, edges = 0, frames = 0, copies: [String] = []
    var inCopies = false
    func parser(
      _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
      attributes: [String: String] = [:]
    ) {
      let cls = attributes["class"] ?? ""
      if name == "g" && cls.hasPrefix("node") { nodes += 1 }
      if name == "g" && cls.hasPrefix("structure") { frames += 1 }
      if name == "path" && cls == "edge" { edges += 1 }
      inCopies = name == "text" && cls == "copies"
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
      inCopies = false
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) {
      if inCopies { copies.append(string) }
    }
  }

  func counts(_ svg: String) -> SVGCounter? {
    let parser = XMLParser(data: Data(svg.utf8))
    let counter = SVGCounter()
    parser.delegate = counter
    return parser.parse() ? counter : nil
  }

  func svg(_ arguments: [String]) throws -> String {
    let result = try NetcProcess.run(["graph", "--format", "svg"] + arguments)
    #expect(result.status == 0, "\(result.stderr)")
    return result.stdout
  }

  @Test func inceptionBlockHasOneBoxPerLayerAndOneEdgePerConnection() throws {
    let text = try svg(["specs/inception-block.yaml"])
    let c = try #require(counts(text), "the SVG is not well-formed XML")
    // The input, then four branches: [CONV, RELU] 2, [CONV, RELU, CONV, RELU] 4,
    // [CONV, RELU, CONV, RELU] 4, [POOL, CONV, RELU] 3, and the concat: 1 + 13 + 1 = 15.
    #expect(c.nodes == 15)
    // Input to each branch's first layer 4, inside the branches 1 + 3 + 3 + 2 = 9, each
    // branch's last layer to the concat 4: 17.
    #expect(c.edges == 17)
    // The parallel and its four branches.
    #expect(c.frames == 5)
    assertGolden(text, named: "inception.graph.svg")
  }

  @Test func resnet50DrawsEachRepeatOnceAndEveryCopyWhenExpanded() throws {
    // A bottleneck with a projection shortcut is 8 body layers + CONV and BN + add + RELU
    // = 12 boxes; with the identity shortcut 10. Folded: stem 4, layer1's first copy 12,
    // layer2-4 each a projection block 12 and their repeat's first copy 10, tail (GAP,
    // FLATTEN, FC) 3, input 1: 1 + 4 + 12 + 3 * (12 + 10) + 3 = 86.
    let folded = try #require(counts(try svg(["specs/resnet50.yaml"])))
    #expect(folded.nodes == 86)
    // Edges: a projection block 13 (into body and shortcut 2, body 7, shortcut 1, into the
    // add 2, add to RELU 1), an identity block 11 (into the body 1, body 7, the skip 1, body
    // to add 1, add to RELU 1); stem 4 (input to conv1 ... to maxpool), tail 3:
    // 4 + 4 * 13 + 3 * 11 + 3 = 92.
    #expect(folded.edges == 92)
    #expect(folded.copies == ["× 3", "× 3", "× 5", "× 2"])
    // Every copy: 4 projection blocks and 12 identity ones.
    let all = try #require(counts(try svg(["specs/resnet50.yaml", "--expand"])))
    #expect(all.nodes == 1 + 4 + 4 * 12 + 12 * 10 + 3)
    #expect(all.edges == 4 + 4 * 13 + 12 * 11 + 3)
    #expect(all.copies.isEmpty)
  }

  @Test func gpt2DrawsNoFrameThatOnlyRepeatsAnother() throws {
    let svg = try svg(["specs/gpt2.yaml"])
    func frames(_ kind: String) -> Int { svg.components(separatedBy: "class=\"structure k-\(kind)\"").count - 1 }
    // The repeat's first copy is drawn in the repeat's frame, and each residual's body (its
    // only lane: the shortcut is the identity) in the residual's: one repeat, two residuals.
    #expect(frames("repeat") == 1)
    #expect(frames("residual") == 2)
    #expect(frames("copy") == 0)
    #expect(frames("body") == 0)
    // wte, wpe, drop, ln_1, attn, resid_dropout, add, ln_2, c_fc, gelu1, c_proj, dropout1,
    // add, ln_f, lm_head and the input: 16 boxes.
    #expect(counts(svg)?.nodes == 16)
    // With T free the bars show the shares at T = 1024: attn's MACs bar is drawn
    // (1536·1024² + 2,359,296·1024 of 18,432·1024² + 123,532,032·1024, about 2.8%).
    #expect(svg.contains("class=\"macs\""))
  }

  @Test func depthFoldsStructuresIntoOneBox() throws {
    // At depth 0 each of ResNet-50's top-level structures is one box: stem 4, four repeats
    // and three blocks 7, tail 3, input 1 = 15 boxes in one chain of 14 edges.
    let c = try #require(counts(try svg(["specs/resnet50.yaml", "--depth", "0"])))
    #expect(c.nodes == 15)
    #expect(c.edges == 14)
    #expect(c.frames == 0)
  }

  @Test func outputIsDeterministic() throws {
    let a = try NetcProcess.run(["graph", "specs/resnet50.yaml"])
    let b = try NetcProcess.run(["graph", "specs/resnet50.yaml"])
    #expect(a.status == 0)
    #expect(a.stdout == b.stdout)
  }

  @Test func htmlIsSelfContainedAndEveryRowLinksToABox() throws {
    let result = try NetcProcess.run(["graph", "specs/gpt2.yaml"])
    #expect(result.status == 0, "\(result.stderr)")
    let html = result.stdout
    #expect(!html.contains("<script"))
    #expect(!html.contains("src="))
    // The only URL is the SVG namespace, which is a name, not a fetch.
    #expect(html.components(separatedBy: "http").count - 1 == html.components(separatedBy: "http://www.w3.org/2000/svg").count - 1)
    // GPT-2 with T free: shapes and MACs stay expressions in T.
    #expect(html.contains(">(T)x768<"))
    #expect(html.contains("total KV cache"))
    #expect(html.contains("note: MACs: matrix products"))
    let ids = Set(html.matches(of: /id="([^"]+)"/).map { String($0.1) })
    let links = html.matches(of: /href="#([^"]+)"/).map { String($0.1) }
    #expect(!links.isEmpty)
    for link in links { #expect(ids.contains(link), "row links to missing box \(link)") }
    // 12 transformer blocks: the table lists every copy, the picture one with "× 12".
    #expect(html.contains("× 12"))
  }

  @Test func dotHasTheSameEdges() throws {
    let result = try NetcProcess.run(["graph", "specs/inception-block.yaml", "--format", "dot"])
    #expect(result.status == 0)
    #expect(result.stdout.hasPrefix("digraph \"inception-3a\" {"))
    #expect(result.stdout.components(separatedBy: " -> ").count - 1 == 17)
    #expect(result.stdout.components(separatedBy: "subgraph ").count - 1 == 5)
  }

  @Test func compareMarksTheDifferences() throws {
    let result = try NetcProcess.run([
      "graph", "--compare", "specs/conv3x3-30x30x20.yaml", "specs/sepconv3x3-30x30x20.yaml",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.components(separatedBy: "<svg ").count - 1 == 2)
    #expect(result.stdout.contains(" marked\""))
  }

  @Test(arguments: [
    (["graph", "specs/resnet50.yaml", "-o", "/tmp/x.png"], Int32(2), "cannot tell the format from `/tmp/x.png`"),
    (["graph", "specs/resnet50.yaml", "specs/resnet18.yaml"], Int32(2), "give one spec file"),
    (["graph", "--compare", "specs/resnet50.yaml"], Int32(2), "give two spec files"),
    (["graph", "--compare", "--format", "svg", "specs/resnet50.yaml", "specs/resnet18.yaml"], Int32(2), "--compare writes HTML"),
    (["graph", "specs/resnet50.yaml", "-o", "/nonexistent-dir/x.svg"], Int32(2), "cannot write `/nonexistent-dir/x.svg`"),
    (["graph", "no-such-spec.yaml"], Int32(2), "no-such-spec.yaml"),
    (["graph", "specs/gpt2.yaml", "--set", "T=5000"], Int32(1), "gpt2.yaml:"),
  ])
  func badInputGetsAClearErrorAndExitCode(arguments: [String], status: Int32, message: String) throws {
    let result = try NetcProcess.run(arguments)
    #expect(result.status == status, "\(result.stderr)")
    #expect(result.stderr.contains(message), "\(result.stderr)")
    #expect(result.stdout.isEmpty)
  }
}
