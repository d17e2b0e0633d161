import Foundation
import Harness
import Models

/// A generator bundle's model.json: refused, or a manifest whose numbers a generator can be built from.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let manifest = try? ModelBundle.decodeManifest(Data(bytes: data, count: size), path: "model.json") else { return 0 }
    _ = manifest.camera.frontal
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzModelManifest_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
