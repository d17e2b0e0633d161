import Faces
import Foundation

/// Does the avatar still look like the person? For every rendered frame, dlib's 128-d face descriptor
/// of the source frame's face (its measured landmarks) and of the avatar's face is compared, as papers
/// in the field do with a face recognition network (PREIM3D, GOAE, 3DAvatarGAN report identity
/// similarity this way). The avatar is already an aligned crop, so its landmarks are fitted inside the
/// region where the source's landmarks land after alignment; dlib's HOG detector must confirm a face
/// there, or the frame is counted as "no plausible face on the avatar" rather than skipped.
/// Attach `observe` to `AvatarRenderer.onFrame` with `observerNeedsSource`.
public final class IdentityFigure {
    /// The figure for a clip.
    public struct Summary: Sendable, Codable, Equatable {
        /// Frames observed.
        public var frames = 0
        /// Frames where both faces were described and compared.
        public var compared = 0
        /// Frames without a measured face in the source (filled frames).
        public var sourceWithoutFace = 0
        /// Frames where no plausible face was found on the avatar.
        public var avatarWithoutFace = 0
        /// Cosine similarity of the two descriptors: mean and 10th percentile over compared frames.
        public var meanSimilarity: Double?
        public var similarityP10: Double?
        /// Mean Euclidean descriptor distance, and the share of compared frames under dlib's same-person
        /// threshold 0.6.
        public var meanDistance: Double?
        public var shareSamePerson: Double?
        /// Time spent, per described face.
        public var millisecondsPerFace: Double?

        public init() {}
    }

    /// What became of one frame: compared (cosine similarity and Euclidean distance of the two descriptors), or
    /// left out for want of a face on one side.
    public enum FrameOutcome: Sendable, Codable, Equatable {
        case compared(similarity: Double, distance: Double)
        case noSourceFace
        case noAvatarFace
    }

    private let recognizer: FaceRecognizer
    private let predictor: ShapePredictor
    private let hog: HOGFaceDetector
    /// One per observed frame, in the order observed (the clip report draws them per frame).
    public private(set) var outcomes: [FrameOutcome] = []
    private var seconds = 0.0
    private var described = 0

    public init(paths: FaceModelPaths) throws {
        recognizer = try FaceRecognizer(contentsOf: paths.recognizer)
        predictor = try ShapePredictor(contentsOf: paths.predictor)
        hog = try HOGFaceDetector()
    }

    /// Takes one rendered frame (needs its source frame).
    public func observe(_ frame: RenderedFrame) throws {
        guard frame.raw.faceFound, let source = frame.source else {
            outcomes.append(.noSourceFace)
            return
        }
        let t0 = Date()
        defer { seconds += Date().timeIntervalSince(t0) }
        let landmarks = stride(from: 0, to: frame.raw.landmarks.count - 1, by: 2).map {
            Point2(x: Double(frame.raw.landmarks[$0]), y: Double(frame.raw.landmarks[$0 + 1]))
        }
        guard landmarks.count == 68,
              let avatarLandmarks = avatarFace(frame.avatar, sourceLandmarks: landmarks, quad: frame.smoothed.quad)
        else {
            outcomes.append(.noAvatarFace)
            return
        }
        let d = try recognizer.describe([(source, landmarks), (frame.avatar, avatarLandmarks)])
        described += 2
        outcomes.append(.compared(similarity: Self.cosine(d[0], d[1]), distance: FaceRecognizer.distance(d[0], d[1])))
    }

    /// The avatar's landmarks, or nil when HOG finds no face where the aligned face should be.
    func avatarFace(_ avatar: RGBImage, sourceLandmarks: [Point2], quad corners: [Float]) -> [Point2]? {
        guard corners.count == 8 else { return nil }
        let s = Double(avatar.width)
        // Crop coordinates of a source point: corners are top-left, bottom-left, bottom-right, top-right.
        let tl = Point2(x: Double(corners[0]), y: Double(corners[1]))
        let bl = Point2(x: Double(corners[2]), y: Double(corners[3]))
        let tr = Point2(x: Double(corners[6]), y: Double(corners[7]))
        let ux = tr - tl, uy = bl - tl
        let det = ux.x * uy.y - ux.y * uy.x
        guard abs(det) > 1e-9 else { return nil }
        let mapped = sourceLandmarks.map { p -> Point2 in
            let d = p - tl
            let u = (d.x * uy.y - d.y * uy.x) / det, v = (ux.x * d.y - ux.y * d.x) / det
            return Point2(x: u * s, y: v * s)
        }
        let box = predictor.box(fitting: mapped)
        let region = FaceRect(x: box.left - box.width / 2, y: box.top - box.height / 2, width: 2 * box.width, height: 2 * box.height)
        let found = hog.detect(avatar, in: region, scale: min(4, max(0.2, 100 / Double(max(box.width, 1)))))
        guard let face = found.first(where: { FaceRect($0.box).iou(FaceRect(box)) > 0.3 }) else { return nil }
        let intensity = avatar.meanIntensity()
        // Landmarks from dlib's own box of the avatar's face, then once more in the box they imply.
        let first = predictor.predict(intensity, box: face.box)
        return predictor.predict(intensity, box: predictor.box(fitting: first))
    }

    public var summary: Summary {
        var s = Summary(outcomes: outcomes)
        if s.compared > 0 { s.millisecondsPerFace = 1000 * seconds / Double(max(described, 1)) }
        return s
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in 0..<min(a.count, b.count) {
            ab += Double(a[i]) * Double(b[i]); aa += Double(a[i]) * Double(a[i]); bb += Double(b[i]) * Double(b[i])
        }
        return ab / max((aa * bb).squareRoot(), 1e-12)
    }
}

extension IdentityFigure.Summary {
    /// The figure over frames' outcomes (also of several renders' outcomes put together, as for a clip rendered in
    /// segments); the time per face is not among them and stays nil.
    public init(outcomes: [IdentityFigure.FrameOutcome]) {
        self.init()
        frames = outcomes.count
        var similarities: [Double] = [], distances: [Double] = []
        for o in outcomes {
            switch o {
            case let .compared(similarity, distance): similarities.append(similarity); distances.append(distance)
            case .noSourceFace: sourceWithoutFace += 1
            case .noAvatarFace: avatarWithoutFace += 1
            }
        }
        compared = similarities.count
        guard !similarities.isEmpty else { return }
        let n = Double(similarities.count)
        meanSimilarity = similarities.reduce(0, +) / n
        similarityP10 = similarities.sorted()[Int((0.1 * (n - 1)).rounded(.down))]
        meanDistance = distances.reduce(0, +) / n
        shareSamePerson = Double(distances.filter { $0 < FaceRecognizer.samePersonDistance }.count) / n
    }

    /// One line for the run summary.
    public var line: String {
        var parts = ["identity (dlib descriptors, source vs avatar): \(compared) of \(frames) frames compared"]
        if let m = meanSimilarity, let p = similarityP10, let d = meanDistance, let share = shareSamePerson {
            parts.append(String(format: "similarity mean %.3f, 10th percentile %.3f; distance mean %.3f, %.0f%% under 0.6",
                                m, p, d, 100 * share))
        }
        parts.append("no plausible face on the avatar in \(avatarWithoutFace), no source face in \(sourceWithoutFace)")
        return parts.joined(separator: "; ")
    }
}
