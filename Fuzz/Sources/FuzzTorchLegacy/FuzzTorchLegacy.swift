import Checkpoints

/// Any bytes read as a legacy torch.save file (its storage section included).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? LegacyTorchFile.read(bytes[...], file: "fuzz.pt") { _ in 0 }
    _ = try? ModelImporter.inspect(bytes[...], file: "fuzz.pt")
    return 0
}

// SwiftPM links an executable target with `main` aliased to `FuzzTorchLegacy_main`; with -parse-as-library
// there is none, so this entry point hands control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("FuzzTorchLegacy_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return runFuzzerDriver(&count, &vector, fuzz)
}
