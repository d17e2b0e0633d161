// swift-tools-version:6.0
import PackageDescription

// Module layout follows shared docs/ARCHITECTURE.md: system shims → Tensors → Models / Faces,
// Video on FFmpeg, Pipeline on all three, Jobs on Pipeline, and a thin CLI on top.
let package = Package(
    name: "avatarize",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "avatarize", targets: ["avatarize"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libswscale libswresample libavutil",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libswresample-dev", "libavutil-dev"])]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .target(name: "Tensors", dependencies: ["COpenBLAS"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "Models", dependencies: ["Tensors"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "Faces", dependencies: ["Tensors"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "Video", dependencies: ["CFFmpeg", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Pipeline", dependencies: ["Models", "Faces", "Video", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Jobs", dependencies: ["Pipeline", "Video", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "avatarize",
            dependencies: [
                "Video", "Tensors", "Models", "Faces", "Pipeline", "Jobs",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FacesTests", dependencies: ["Faces", "Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VideoTests", dependencies: ["Video"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline"]),
        .testTarget(name: "JobsTests", dependencies: ["Jobs"]),
    ]
)
