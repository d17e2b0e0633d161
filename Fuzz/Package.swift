// swift-tools-version:6.0
// Fuzz targets for every parser of outside data, run by libFuzzer. A package of its own so that the
// `-sanitize=fuzzer` build never touches the main one; scripts/fuzz.sh builds and runs them:
//     swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -O --scratch-path .build
// (-O overrides the main package's release-only -Ounchecked, so the fuzzed code keeps its checks).
//
// Convention: one executable target a parser, Sources/Fuzz<Name>/Fuzz<Name>.swift, defining
//     @_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt
// (return 0), a seed corpus in corpus/Fuzz<Name>/, and one line in `targets` below naming the products
// of the main package it needs. `Harness` holds what several targets share; `LibFuzzerMain` is the
// entry point (see the comment in LibFuzzerMain.c for why SwiftPM needs one). The checkpoint targets
// below define their entry themselves through `FuzzDriver` instead.
import PackageDescription

let targets: [(name: String, uses: [String])] = [
    ("FuzzSafeTensors", ["Tensors"]),
    ("FuzzNumpy", ["Tensors"]),
    ("FuzzHaarCascade", ["Faces"]),
    ("FuzzDlibPredictor", ["Faces"]),
    ("FuzzMeasuredFaces", ["Faces"]),
    ("FuzzModelManifest", ["Models"]),
    ("FuzzEncoderManifest", ["Models"]),
    ("FuzzLatentTrack", ["Pipeline"]),
    ("FuzzJobFile", ["Jobs"]),
]

let fuzzSettings: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "avatarize-fuzz",
    dependencies: [.package(name: "avatarize", path: "..")],
    targets: [.target(name: "Harness"), .target(name: "LibFuzzerMain")] + targets.map { t in
        .executableTarget(
            name: t.name,
            dependencies: ["Harness", "LibFuzzerMain"] + t.uses.map { .product(name: $0, package: "avatarize") },
            // The file only defines LLVMFuzzerTestOneInput; libFuzzer's driver is the entry point.
            swiftSettings: fuzzSettings,
            linkerSettings: [.unsafeFlags(["-Xlinker", "--defsym=main=avatarize_fuzz_main", "-Xlinker", "--defsym=\(t.name)_main=avatarize_fuzz_main"])]
        )
    } + [
        .target(name: "FuzzDriver", swiftSettings: fuzzSettings),
        // The restricted unpickler on raw pickles (persistent ids become storages), then the EG3D /
        // encoder converters and tensor materialisation on whatever it reads.
        .executableTarget(name: "FuzzUnpickler", dependencies: ["FuzzDriver", .product(name: "Checkpoints", package: "avatarize")],
                          swiftSettings: fuzzSettings),
        // torch zip archives: the central-directory reader, data.pkl and data/N records.
        .executableTarget(name: "FuzzTorchZip", dependencies: ["FuzzDriver", .product(name: "Checkpoints", package: "avatarize")],
                          swiftSettings: fuzzSettings),
        // Legacy torch.save files: five pickles and the raw storages after them.
        .executableTarget(name: "FuzzTorchLegacy", dependencies: ["FuzzDriver", .product(name: "Checkpoints", package: "avatarize")],
                          swiftSettings: fuzzSettings),
    ]
)
