// swift-tools-version:6.0
import PackageDescription

// Module layout follows shared docs/ARCHITECTURE.md: system shims → Tensors → Models / Faces,
// Video on FFmpeg, Pipeline on all three, Jobs on Pipeline, and a thin CLI on top.
let package = Package(
    name: "avatarize",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "avatarize", targets: ["avatarize"]),
        // For the fuzz package in Fuzz/ (checkpoint parsers).
        .library(name: "Checkpoints", targets: ["Checkpoints"]),
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
        // oneDNN (Debian's libdnnl-dev, no pkg-config file): JIT float32 and bf16 matmul kernels.
        .systemLibrary(
            name: "CDNNL",
            providers: [.apt(["libdnnl-dev"])]
        ),
        // The renderer's innermost loops in C, built for AVX2 + FMA and for baseline x86-64 (see ckernels.h),
        // and the oneDNN matmul wrapper with its bf16 conversion (dnnl_gemm.h).
        .target(name: "CKernels", dependencies: ["CDNNL"], cSettings: [.unsafeFlags(["-O3"])],
                linkerSettings: [.linkedLibrary("dnnl")]),
        .target(name: "Tensors", dependencies: ["COpenBLAS", "CKernels"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        // DemoModels/: the fitted demo family (tools/fit_demo), found through Bundle.module wherever avatarize runs.
        .target(name: "Models", dependencies: ["Tensors"], resources: [.copy("DemoModels")], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        // Reads torch / EG3D checkpoints without Python (restricted unpickler, zip and legacy readers).
        .target(name: "Checkpoints", dependencies: ["Tensors", "Models"]),
        // dlib's HOG face detector and face recognition ResNet behind a C API (Debian's libdlib-dev,
        // pkg-config dlib-1; the library links OpenBLAS through libblas). -O3: dlib's network layers are
        // templates compiled here, not in the library.
        .target(
            name: "CDlib",
            cxxSettings: [.unsafeFlags(["-O3"])],
            linkerSettings: [.linkedLibrary("dlib"), .linkedLibrary("blas"), .linkedLibrary("lapack")]
        ),
        .target(name: "Faces", dependencies: ["Tensors", "CDlib"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "Video", dependencies: ["CFFmpeg", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Pipeline", dependencies: ["Models", "Faces", "Video", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "Jobs",
            dependencies: [
                "Pipeline", "Video", "Models", .product(name: "Logging", package: "swift-log"),
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
        .executableTarget(
            name: "avatarize",
            dependencies: [
                "Video", "Tensors", "Models", "Faces", "Pipeline", "Jobs", "Checkpoints",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "Models", "Tensors", .product(name: "Crypto", package: "swift-crypto")], resources: [.copy("Fixtures")]),
        .testTarget(name: "FacesTests", dependencies: ["Faces", "Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VideoTests", dependencies: ["Video"]),
        // Runs the built executable as a user would: exit codes, messages, files left behind.
        .testTarget(name: "avatarizeTests", dependencies: ["avatarize", "Video"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Models", "Faces", "Video", "Tensors"]),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", .product(name: "GRDB", package: "GRDB.swift")]),
    ]
)
