import Checkpoints
import FuzzDriver

/// Any bytes as a pickle: errors are expected, crashes, hangs and runaway allocations are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Prefixed with PROTO 2 so the format sniffing always picks the pickle path.
    _ = try? ModelImporter.inspect(([0x80, 0x02] + bytes)[...], file: "fuzz.pkl")
    return 0
}

/// libFuzzer's entry (see FuzzDriver).
@_cdecl("FuzzUnpickler_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
