// swift-tools-version:6.0
// libFuzzer targets for avatarize's parsers. Build and run inside Fuzz/:
//   swift build -c release -Xswiftc -sanitize=fuzzer
//   .build/release/FuzzUnpickler corpus/FuzzUnpickler -runs=1000000
import PackageDescription

let fuzzSettings: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "avatarize-fuzz",
    dependencies: [.package(name: "avatarize", path: "..")],
    targets: [
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
