import Checkpoints

/// Any bytes as a pickle: errors are expected, crashes, hangs and runaway allocations are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Prefixed with PROTO 2 so the format sniffing always picks the pickle path.
    _ = try? ModelImporter.inspect(([0x80, 0x02] + bytes)[...], file: "fuzz.pkl")
    return 0
}

// SwiftPM links an executable target with `main` aliased to `FuzzUnpickler_main`; with -parse-as-library
// there is none, so this entry point hands control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("FuzzUnpickler_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return runFuzzerDriver(&count, &vector, fuzz)
}
