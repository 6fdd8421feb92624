// TinyNet is generated from tiny.netspec.yaml by the NetcEmitPlugin at build time.
let net = TinyNet()
let input = (0..<TinyNet.inputCount).map { Float($0 % 7) / 7 }
let output = net(input)
print("input \(TinyNet.inputShape) -> output \(TinyNet.outputShape): \(output.map { ($0 * 1000).rounded() / 1000 })")
