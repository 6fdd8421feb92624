// swift-tools-version: 6.0
import PackageDescription

// An app whose network kernels come from a spec at build time, through netc's plugin.
let package = Package(
  name: "EmitPlugin",
  dependencies: [.package(name: "netc", path: "../..")],
  targets: [
    .executableTarget(
      name: "TinyNet",
      plugins: [.plugin(name: "NetcEmitPlugin", package: "netc")]
    )
  ]
)
