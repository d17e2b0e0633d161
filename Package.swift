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
        // Jobs: embedded SQLite queue, shared PostgreSQL queue, YAML job files.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Already in the graph through postgres-nio; named here for SHA-256 idempotency keys and TLS settings.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        // Jobs: the worker's --metrics-port endpoint.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.65.0"),
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
        // The renderer's innermost loops in C, built for AVX2 + FMA and for baseline x86-64 (see ckernels.h).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Tensors", dependencies: ["COpenBLAS", "CKernels"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "Models", dependencies: ["Tensors"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "Faces", dependencies: ["Tensors"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "Video", dependencies: ["CFFmpeg", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Pipeline", dependencies: ["Models", "Faces", "Video", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "Jobs",
            dependencies: [
                "Pipeline", "Video", "Models", "Reports", .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The per-clip HTML report: data gathered from a render, SVG charts, a contact sheet, one self-contained file.
        .target(name: "Reports", dependencies: ["Pipeline", "Video", "Faces"]),
        // The web window onto the queue, on SwiftNIO's HTTP/1 server (already in the graph through postgres-nio).
        .target(
            name: "Dashboard",
            dependencies: [
                "Jobs", "Reports", "Video", "Faces", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "avatarize",
            dependencies: [
                "Video", "Tensors", "Models", "Faces", "Pipeline", "Jobs", "Reports", "Dashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FacesTests", dependencies: ["Faces", "Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VideoTests", dependencies: ["Video"]),
        // Runs the built executable as a user would: exit codes, messages, files left behind.
        .testTarget(name: "avatarizeTests", dependencies: ["avatarize", "Video"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Models", "Faces", "Video", "Tensors"]),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Pipeline", "Models", "Faces", "Video"]),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "Jobs", "Reports", "Video", "Pipeline", "Models"]),
    ]
)
