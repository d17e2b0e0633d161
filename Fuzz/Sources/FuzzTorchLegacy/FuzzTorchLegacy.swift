import Checkpoints
import Harness

/// Any bytes read as a legacy torch.save file (its storage section included).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = bytes(data, size)
    _ = try? LegacyTorchFile.read(input[...], file: "fuzz.pt") { _ in 0 }
    _ = try? ModelImporter.inspect(input[...], file: "fuzz.pt")
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzTorchLegacy_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
