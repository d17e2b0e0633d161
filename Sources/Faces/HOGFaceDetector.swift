import CDlib
import Foundation

/// dlib's HOG + linear SVM frontal face detector (`get_frontal_face_detector`, the model built into
/// libdlib), through the CDlib shim. Much less fooled by face-like texture than the Haar cascades and
/// about as fast on a small image, so the tracker uses it to verify Haar candidates on a crop around
/// each one rather than on the whole frame. Not thread-safe: one per tracker.
public final class HOGFaceDetector {
    /// One detection: the box, the SVM score (dlib's `detection_confidence`; > 0 is a face at dlib's
    /// default threshold) and which of the model's five filters fired.
    public struct Detection: Sendable, Equatable {
        public var box: DlibRect
        public var score: Double
        /// 0 frontal, 1 and 2 turned left/right, 3 and 4 frontal rolled (the built-in model's order).
        public var filter: Int
    }

    let handle: OpaquePointer

    public init() throws {
        guard let h = cdlib_hog_detector_create() else {
            throw FacesError.invalidArgument("cannot create dlib's HOG face detector")
        }
        handle = h
    }

    deinit { cdlib_hog_detector_destroy(handle) }

    /// Detections in `image`, best first. `upsample` doubles the image that many times first (dlib's
    /// 80-pixel window then finds faces down to 40, 20… pixels); `threshold` is added to dlib's default.
    public func detect(_ image: RGBImage, upsample: Int = 0, threshold: Double = 0) -> [Detection] {
        var out = [cdlib_detection](repeating: cdlib_detection(), count: 32)
        var error = [CChar](repeating: 0, count: 256)
        let n = image.pixels.withUnsafeBufferPointer { px in
            cdlib_hog_detect(handle, px.baseAddress, image.width, image.height, image.width * 3, Int32(upsample),
                             threshold, &out, out.count, &error, error.count)
        }
        // Only an allocation failure inside dlib gets here; a detector that failed found nothing.
        guard n > 0 else { return [] }
        return out.prefix(min(n, out.count)).map {
            Detection(box: DlibRect(left: $0.left, top: $0.top, right: $0.right, bottom: $0.bottom),
                      score: $0.score, filter: Int($0.filter))
        }
    }
}

extension HOGFaceDetector {
    /// Detections inside `region` (clipped to the image) after scaling it by `scale`, boxes in the
    /// image's coordinates, best first.
    public func detect(_ image: RGBImage, in region: FaceRect, scale: Double, threshold: Double = 0) -> [Detection] {
        var out = [cdlib_detection](repeating: cdlib_detection(), count: 16)
        var error = [CChar](repeating: 0, count: 256)
        let n = image.pixels.withUnsafeBufferPointer { px in
            cdlib_hog_detect_region(handle, px.baseAddress, image.width, image.height, image.width * 3,
                                    region.x, region.y, region.x + region.width, region.y + region.height, scale,
                                    threshold, &out, out.count, &error, error.count)
        }
        guard n > 0 else { return [] }
        return out.prefix(min(n, out.count)).map {
            Detection(box: DlibRect(left: $0.left, top: $0.top, right: $0.right, bottom: $0.bottom),
                      score: $0.score, filter: Int($0.filter))
        }
    }
}
