import Foundation
import Harness
import Tensors

/// .npy (edit directions, GANSpace components): refused, or a tensor whose size matches its shape.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let t = try? NumpyArray.decode(Data(bytes: data, count: size), path: "input.npy") else { return 0 }
    precondition(t.count == t.shape.reduce(1, *), "shape \(t.shape) with \(t.count) values")
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzNumpy_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
