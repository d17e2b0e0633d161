import Checkpoints
import FuzzDriver

/// Any bytes after a zip local-header signature, read as a torch zip checkpoint.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? ZipArchive(bytes: bytes[...], file: "fuzz.pt")
    _ = try? ModelImporter.inspect(bytes[...], file: "fuzz.pt")
    return 0
}

/// libFuzzer's entry (see FuzzDriver).
@_cdecl("FuzzTorchZip_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
