// swift-tools-version: 6.0
import PackageDescription

// An app whose network kernels come from a spec at build time, through netc's plugin.
let package = Package(
  name: "EmitPlugin",
  dependencies: [.package(name: "netc", path: "../..")],
  targets: [
    .executableTarget(
      name: "TinyNet",
      // The standard library's rounding and SIMD fused multiply-add call libm on Linux.
      linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))],
      plugins: [.plugin(name: "NetcEmitPlugin", package: "netc")]
    )
  ]
)
