import Faces
import Harness

/// The face pass's measurements file: refused when opened, or every frame reads (or throws).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let file = try? MeasuredFaceFile(url: ScratchFile.write(data, size)) else { return 0 }
    for i in 0..<file.count {
        _ = try? file.measured(i)
        _ = try? file.time(i)
    }
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzMeasuredFaces_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
