// swift-tools-version: 6.0
import PackageDescription

// The pipeline is visible in the targets: each stage imports only earlier ones.
let package = Package(
  name: "netc",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "netc", targets: ["netc"]),
    .library(name: "NetcDriver", targets: ["NetcDriver"]),
    .plugin(name: "NetcEmitPlugin", targets: ["NetcEmitPlugin"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    .systemLibrary(
      name: "CYAML",
      pkgConfig: "yaml-0.1",
      providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
    ),
    // AVX-512/AVX2 kernels of the interpreter, chosen at run time, and BLAS (OpenBLAS
    // loaded on first use, Debian's libopenblas0; plain loops without it). See the headers.
    .target(name: "CNetcKernels", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
    .target(name: "NetcDiagnostics"),
    .target(name: "NetcIR", dependencies: ["NetcDiagnostics"]),
    .target(name: "NetcFrontend", dependencies: ["CYAML", "NetcDiagnostics", "NetcIR"]),
    .target(name: "NetcPasses", dependencies: ["NetcDiagnostics", "NetcIR"]),
    .target(
      name: "NetcBackends",
      dependencies: ["CNetcKernels", "NetcDiagnostics", "NetcIR", "NetcPasses"]
    ),
    // The ONNX backend: the only target that links swift-protobuf. Generated/ holds
    // onnx.pb.swift, generated once and committed (see Generated/README.md).
    .target(
      name: "NetcONNX",
      dependencies: [
        "NetcDiagnostics", "NetcIR", "NetcPasses", "NetcBackends",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      exclude: ["Generated/README.md"]
    ),
    .target(
      name: "NetcDriver",
      dependencies: [
        "NetcDiagnostics", "NetcIR", "NetcFrontend", "NetcPasses", "NetcBackends", "NetcONNX",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "netc", dependencies: ["NetcDriver"]),
    // Spec files (*.netspec.yaml) of a target become kernels at build time.
    .plugin(name: "NetcEmitPlugin", capability: .buildTool(), dependencies: ["netc"]),
    .target(
      name: "NetcTestSupport",
      dependencies: ["NetcDiagnostics", "NetcIR", "NetcFrontend", "NetcPasses"],
      path: "Tests/NetcTestSupport"
    ),
    .testTarget(
      name: "NetcDiagnosticsTests", dependencies: ["NetcDiagnostics", "NetcTestSupport"], exclude: ["Goldens"]
    ),
    .testTarget(name: "NetcIRTests", dependencies: ["NetcIR", "NetcTestSupport"]),
    .testTarget(name: "NetcFrontendTests", dependencies: ["NetcFrontend", "NetcPasses", "NetcTestSupport"]),
    // Fixtures and goldens are read through #filePath, so recording writes the source tree.
    .testTarget(
      name: "NetcPassesTests",
      dependencies: ["NetcPasses", "NetcFrontend", "NetcTestSupport"],
      exclude: ["Fixtures"]
    ),
    .testTarget(
      name: "NetcBackendsTests",
      dependencies: ["CNetcKernels", "NetcBackends", "NetcFrontend", "NetcPasses", "NetcTestSupport"],
      exclude: ["PyTorch/Goldens"],
      resources: [.copy("Fixtures")]
    ),
    .testTarget(
      name: "NetcONNXTests",
      dependencies: [
        "NetcONNX", "NetcDriver", "NetcBackends", "NetcFrontend", "NetcPasses", "NetcTestSupport",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      exclude: ["Fixtures", "Goldens", "Import/Goldens"]
    ),
    .testTarget(
      name: "NetcDriverTests",
      dependencies: ["NetcDriver", "NetcTestSupport"],
      exclude: ["Goldens", "Fixtures"],
      resources: [.copy("Corpus")]
    ),
  ]
)
