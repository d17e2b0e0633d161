import CDlib
import Foundation

/// dlib's face recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`, public domain): a
/// 128-d descriptor of a face from its landmarks, through the CDlib shim so the numbers are dlib's own.
/// Two faces of one person lie within Euclidean distance 0.6 (dlib's threshold, 99.38 % on LFW as its
/// author reports). Not thread-safe: one per worker.
public final class FaceRecognizer {
    public static let modelName = "dlib_face_recognition_resnet_model_v1.dat"
    /// dlib's same-person threshold on the descriptor distance.
    public static let samePersonDistance = 0.6

    private let handle: OpaquePointer

    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FacesError.recognizerMissing(path: path)
        }
        var error = [CChar](repeating: 0, count: 512)
        guard let h = cdlib_face_recognizer_load(path, &error, error.count) else {
            throw FacesError.recognizerUnreadable(path: path, reason: cMessage(error))
        }
        handle = h
    }

    deinit { cdlib_face_recognizer_destroy(handle) }

    /// The descriptors of faces given by their landmarks (68 or 5 points each), one forward pass for
    /// all. `padding` is the chip's margin (0.25, dlib's default in `compute_face_descriptor`).
    public func describe(_ faces: [(image: RGBImage, landmarks: [Point2])], padding: Double = 0.25) throws -> [[Float]] {
        guard !faces.isEmpty else { return [] }
        let count = faces[0].landmarks.count
        guard count == 68 || count == 5, faces.allSatisfy({ $0.landmarks.count == count }) else {
            throw FacesError.invalidArgument("a face descriptor needs 68 (or 5) landmarks per face")
        }
        let points = faces.flatMap { f in f.landmarks.flatMap { [$0.x, $0.y] } }
        var out = [Float](repeating: 0, count: 128 * faces.count)
        var error = [CChar](repeating: 0, count: 512)
        let widths = faces.map { $0.image.width }, heights = faces.map { $0.image.height }
        let strides = widths.map { $0 * 3 }
        // Keep every image's bytes pinned for the call.
        let status: Int32 = withPinned(faces.map { $0.image.pixels }) { pointers in
            cdlib_face_descriptors(handle, pointers, widths, heights, strides, points, Int32(count), Int32(faces.count),
                                   padding, &out, &error, error.count)
        }
        guard status == 0 else { throw FacesError.invalidArgument("face descriptor failed: \(cMessage(error))") }
        return (0..<faces.count).map { Array(out[(128 * $0)..<(128 * $0 + 128)]) }
    }

    /// One face's descriptor.
    public func describe(_ image: RGBImage, landmarks: [Point2], padding: Double = 0.25) throws -> [Float] {
        try describe([(image, landmarks)], padding: padding)[0]
    }

    /// Euclidean distance between two descriptors.
    public static func distance(_ a: [Float], _ b: [Float]) -> Double {
        var s = 0.0
        for i in 0..<min(a.count, b.count) { let d = Double(a[i]) - Double(b[i]); s += d * d }
        return s.squareRoot()
    }
}

/// Calls `body` with a C array of pointers to each buffer's bytes, all pinned for the duration.
private func withPinned<R>(_ buffers: [[UInt8]], _ body: ([UnsafePointer<UInt8>?]) -> R) -> R {
    func pin(_ i: Int, _ acc: [UnsafePointer<UInt8>?]) -> R {
        if i == buffers.count { return body(acc) }
        return buffers[i].withUnsafeBufferPointer { pin(i + 1, acc + [$0.baseAddress]) }
    }
    return pin(0, [])
}

/// The NUL-terminated message the shim wrote into `buffer`.
func cMessage(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
