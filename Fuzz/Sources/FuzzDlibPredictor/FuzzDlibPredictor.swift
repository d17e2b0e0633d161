import Faces
import Harness

let image: GrayImage = {
    let w = 40, h = 40
    return GrayImage(width: w, height: h, pixels: (0..<(w * h)).map { i in UInt8(truncatingIfNeeded: i * 7 + (i / w) * 13) })
}()

/// dlib shape predictor .dat: refused, or a model that predicts landmarks on an image.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let predictor = try? ShapePredictor(data: bytes(data, size), path: "predictor.dat") else { return 0 }
    let points = predictor.predict(image, box: DlibRect(left: 5, top: 6, right: 30, bottom: 33))
    precondition(points.count == predictor.landmarkCount)
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzDlibPredictor_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
