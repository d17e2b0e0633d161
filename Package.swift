// swift-tools-version:6.0
import PackageDescription

// Module layout (docs/ARCHITECTURE.md): system shims → Tensors → Models → Checkpoints; Faces on its dlib
// shim alone; Video on FFmpeg; Pipeline on Models, Faces and Video; Jobs on Pipeline; a thin CLI on top.

// Every module keeps Swift's bounds and overflow checks in every configuration. -Ounchecked on Tensors,
// Models and Faces was measured in release builds (2-core shared machine, one thread, 20 interleaved runs
// each, medians): `bench generator` 1546 ms a frame unchecked vs 1582 ms checked (2.3 %), `bench encoder`
// 548 vs 559 ms (2.1 %). The products run in oneDNN/OpenBLAS and the C kernels, which the flag does not
// touch; the Swift loops it does speed up (Winograd transforms, skip connections, ray sampling: 4–45 %
// per operation) are a small share of a frame. Not worth an unchecked build.
let package = Package(
    name: "avatarize",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "avatarize", targets: ["avatarize"]),
        // Libraries for the fuzz targets in Fuzz/ (a separate package that depends on this one).
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "Faces", targets: ["Faces"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Video", targets: ["Video"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Jobs", targets: ["Jobs"]),
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
        // Jobs: the worker's metrics in Prometheus's text format.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.65.0"),
        // Dashboard: the one web server (dashboard, API, a worker's /metrics) and its authenticator middleware.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Dashboard: the API's types and server stubs are generated from its OpenAPI document at build time.
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
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
        // The fixed team of threads every numeric loop runs on (sized by --threads).
        .target(name: "Threads"),
        .target(name: "Tensors", dependencies: ["COpenBLAS", "CKernels", "Threads"]),
        // DemoModels/: the fitted demo family (tools/fit_demo), found through Bundle.module wherever avatarize runs.
        .target(name: "Models", dependencies: ["Tensors"], resources: [.copy("DemoModels")]),
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
        .target(name: "Faces", dependencies: ["CDlib", "Threads"]),
        .target(name: "Video", dependencies: ["CFFmpeg", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Pipeline", dependencies: ["Models", "Checkpoints", "Faces", "Video", .product(name: "Logging", package: "swift-log")]),
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
            ]
        ),
        // The per-clip HTML report: data gathered from a render, SVG charts, a contact sheet, one self-contained file.
        .target(name: "Reports", dependencies: ["Pipeline", "Video", "Faces"]),
        // The web surface on Hummingbird 2: the dashboard's pages and API over the queue, and a worker's metrics.
        .target(
            name: "Dashboard",
            dependencies: [
                "Jobs", "Pipeline", "Reports", "Video", "Faces", .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
            ],
            // API/openapi.json is the API's source: the plugin makes its types and server stubs, the server serves it.
            resources: [.copy("API/openapi.json")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .executableTarget(
            name: "avatarize",
            dependencies: [
                "Video", "Tensors", "Models", "Faces", "Pipeline", "Jobs", "Checkpoints", "Reports", "Dashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "ThreadsTests", dependencies: ["Threads"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "Threads"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "Models", "Tensors", .product(name: "Crypto", package: "swift-crypto")], resources: [.copy("Fixtures")]),
        .testTarget(name: "FacesTests", dependencies: ["Faces"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VideoTests", dependencies: ["Video"]),
        // Runs the built executable as a user would: exit codes, messages, files left behind.
        .testTarget(name: "avatarizeTests", dependencies: ["avatarize", "Video", "Tensors"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Models", "Faces", "Video", "Tensors"]),
        // What several test targets need: a throwaway PostgreSQL cluster, headless Chromium, running processes.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", "Pipeline", "Models", "Tensors", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Pipeline", "Models", "Faces", "Video", "TestSupport"]),
        // Hummingbird here too: the webhook tests' receiver on loopback.
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "Jobs", "Reports", "Video", "Pipeline", "Models", "TestSupport",
                                                           .product(name: "Hummingbird", package: "hummingbird"),
                                                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
    ]
)
