import Foundation
import Tensors

/// .npy (edit directions, GANSpace components): refused, or a tensor whose size matches its shape.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let t = try? NumpyArray.decode(Data(bytes: data, count: size), path: "input.npy") else { return 0 }
    precondition(t.count == t.shape.reduce(1, *), "shape \(t.shape) with \(t.count) values")
    return 0
}
