import Checkpoints
import FuzzDriver

/// Any bytes read as a legacy torch.save file (its storage section included).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? LegacyTorchFile.read(bytes[...], file: "fuzz.pt") { _ in 0 }
    _ = try? ModelImporter.inspect(bytes[...], file: "fuzz.pt")
    return 0
}

/// libFuzzer's entry (see FuzzDriver).
@_cdecl("FuzzTorchLegacy_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
