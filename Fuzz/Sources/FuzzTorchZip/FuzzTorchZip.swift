import Checkpoints
import Harness

/// Any bytes after a zip local-header signature, read as a torch zip checkpoint.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = bytes(data, size)
    _ = try? ZipArchive(bytes: input[...], file: "fuzz.pt")
    _ = try? ModelImporter.inspect(input[...], file: "fuzz.pt")
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzTorchZip_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
