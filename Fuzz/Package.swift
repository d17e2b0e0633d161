// swift-tools-version:6.0
// Fuzz targets for every parser of outside data, run by libFuzzer. A package of its own so that the
// `-sanitize=fuzzer` build never touches the main one; scripts/fuzz.sh builds and runs them:
//     swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -O --scratch-path .build
// (-O comes last, so that no -Ounchecked a package might add could take the fuzzed code's checks away).
//
// Convention: one executable target a parser, Sources/Fuzz<Name>/Fuzz<Name>.swift, which defines
//     @_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt
// (return 0) and the entry SwiftPM links as main,
//     @_cdecl("Fuzz<Name>_main") public func fuzzerMain(_ argc: CInt, _ argv: …) -> CInt { runFuzzer(argc, argv, fuzz) }
// (see Harness/FuzzerEntry.swift for why); a seed corpus in corpus/Fuzz<Name>/; and one line in `targets`
// below naming the products of the main package it needs. `Harness` holds what the targets share.
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
    // The restricted unpickler on raw pickles (persistent ids become storages), then the EG3D / encoder
    // converters and tensor materialisation on whatever it reads.
    ("FuzzUnpickler", ["Checkpoints"]),
    // torch zip archives: the central-directory reader, data.pkl and data/N records.
    ("FuzzTorchZip", ["Checkpoints"]),
    // Legacy torch.save files: five pickles and the raw storages after them.
    ("FuzzTorchLegacy", ["Checkpoints"]),
    // Structure-aware: the fuzz bytes choose pickle opcodes from a grammar (memo, BUILD, REDUCE, storages,
    // tensors, blobs) and a container (plain, legacy, zip) that is written around them.
    ("FuzzPickleGrammar", ["Checkpoints"]),
]

let package = Package(
    name: "avatarize-fuzz",
    dependencies: [.package(name: "avatarize", path: "..")],
    targets: [.target(name: "Harness")] + targets.map { t in
        .executableTarget(
            name: t.name,
            dependencies: ["Harness"] + t.uses.map { .product(name: $0, package: "avatarize") },
            // The file defines functions only; its Fuzz<Name>_main starts libFuzzer's driver.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    }
)
