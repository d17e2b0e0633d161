import Foundation
import Harness
import Tensors

/// safetensors: the header must be refused or every tensor it admits must read back whole.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let file = try? SafeTensorsFile(data: Data(bytes: data, count: size), path: "input.safetensors") else { return 0 }
    for name in file.names {
        guard let t = try? file.tensor(name) else { continue }
        precondition(t.shape == file.shape(of: name), "tensor \(name) read with another shape")
    }
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzSafeTensors_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
