import Harness
import Models

/// An encoder bundle's model.json: refused or read.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? EncoderManifest.read(ScratchFile.write(data, size))
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzEncoderManifest_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
