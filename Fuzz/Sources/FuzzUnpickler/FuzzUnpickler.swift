import Checkpoints
import Harness

/// Any bytes as a pickle: errors are expected, crashes, hangs and runaway allocations are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = bytes(data, size)
    // Prefixed with PROTO 2 so the format sniffing always picks the pickle path.
    _ = try? ModelImporter.inspect(([0x80, 0x02] + input)[...], file: "fuzz.pkl")
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzUnpickler_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
