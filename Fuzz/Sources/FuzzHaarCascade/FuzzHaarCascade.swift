import Faces
import Harness

/// A small image with some contrast, so that windows pass the variance test and reach the stages.
let image: GrayImage = {
    let w = 48, h = 40
    return GrayImage(width: w, height: h, pixels: (0..<(w * h)).map { i in UInt8(truncatingIfNeeded: (i % w) * 5 + (i / w) * 3 + (i % 7) * 20) })
}()

/// Haar cascade XML (OpenCV's format): refused, or a cascade the detector can run over an image
/// without reading outside its tables or looping forever.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let cascade = try? HaarCascade(xml: bytes(data, size), path: "cascade.xml") else { return 0 }
    _ = HaarDetector(cascade: cascade).candidates(image)
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzHaarCascade_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
