import Harness
import Models

/// An encoder bundle's model.json: refused or read.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? EncoderManifest.read(ScratchFile.write(data, size))
    return 0
}
