import Foundation

/// Finds the face in each frame of a clip, cheaply: the first frame (and any frame after the track is
/// lost) runs full Haar detection — frontal cascade, then the alt2 frontal cascade, then the profile
/// cascade on the frame and its mirror image — and the landmarks; later frames seed the landmark box
/// from the previous frame's landmarks and skip detection. Every `verifyInterval` frames, whenever the
/// landmarks jump (their box moves or changes size too much against the seed) and whenever the face
/// region's appearance changes abruptly (a cut, an occlusion, a black frame), the tracker checks the
/// region around the face with the cascades at nearby sizes, and falls back to full detection if the
/// face is not there. When several faces are present, it keeps the one nearest the previous track,
/// or else the largest, favouring the one nearest the frame centre.
public final class FaceTracker {
    public struct Options: Sendable {
        /// Frames between region checks of a tracked face.
        public var verifyInterval = 10
        /// Smallest face searched by full-frame detection, as a fraction of the frame's shorter side.
        /// Smaller faces would have to be upsampled several times for the 256² encoder crop, so they
        /// are not worth the much larger search.
        public var minFaceFraction = 0.1
        /// `detectMultiScale` parameters (OpenCV's defaults).
        public var scaleFactor = 1.1
        public var minNeighbors = 3
        /// Drift limits between the seed box and the box refitted to the new landmarks.
        public var minSeedIoU = 0.5
        public var maxScaleChange = 1.3
        /// Mean absolute change (0…255) of the face region's 16×16 intensity thumbnail between frames
        /// that triggers an immediate region check. A talking head moving between frames changes it by a
        /// few levels; a cut, an occlusion or the face leaving changes it by tens.
        public var maxAppearanceChange = 24.0

        public init() {}
    }

    /// Counters and timings for the run report.
    public struct Statistics: Sendable, Equatable {
        public var frames = 0
        public var facesFound = 0
        public var fullDetections = 0
        public var regionChecks = 0
        public var trackedFrames = 0
        public var detectionSeconds = 0.0
        public var landmarkSeconds = 0.0

        public init() {}
    }

    public let options: Options
    public let predictor: ShapePredictor
    let frontal: HaarDetector
    let frontalAlt: HaarDetector?
    let profile: HaarDetector?
    public private(set) var statistics = Statistics()

    private var lastLandmarks: [Point2]?
    private var lastCenter: Point2?
    private var lastThumbnail: [Double]?
    private var framesSinceCheck = 0

    public init(frontal: HaarDetector, frontalAlt: HaarDetector?, profile: HaarDetector?, predictor: ShapePredictor,
                options: Options = Options()) {
        self.frontal = frontal
        self.frontalAlt = frontalAlt
        self.profile = profile
        self.predictor = predictor
        self.options = options
    }

    /// Loads the models; the frontal cascade and the predictor are required, the others optional.
    public convenience init(paths: FaceModelPaths, options: Options = Options()) throws {
        let frontal = try HaarDetector(contentsOf: paths.frontalCascade)
        let predictor = try ShapePredictor(contentsOf: paths.predictor)
        let alt = try? HaarDetector(contentsOf: paths.frontalAltCascade)
        let profile = try? HaarDetector(contentsOf: paths.profileCascade)
        self.init(frontal: frontal, frontalAlt: alt, profile: profile, predictor: predictor, options: options)
    }

    /// Forget the track (e.g. at a cut).
    public func reset() {
        lastLandmarks = nil
        framesSinceCheck = 0
    }

    /// The face in one frame, or nil when there is none.
    public func process(_ frame: RGBImage, index: Int, time: Double? = nil) -> FaceFrame? {
        statistics.frames += 1
        let intensity = frame.meanIntensity()
        var result: (landmarks: [Point2], box: DlibRect, source: FaceFrame.Source)?

        if let previous = lastLandmarks {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let seed = boxFromLandmarks(previous)
            let lm = predictor.predict(intensity, box: seed)
            statistics.landmarkSeconds += seconds(since: t0)
            let refit = boxFromLandmarks(lm)
            let ratio = Double(refit.width) / Double(seed.width)
            let thumb = thumbnail(intensity, seed)
            let changed = lastThumbnail.map { prev in
                zip(prev, thumb).map { abs($0 - $1) }.reduce(0, +) / Double(thumb.count) > options.maxAppearanceChange
            } ?? false
            lastThumbnail = thumb
            let drifted = FaceRect(seed).iou(FaceRect(refit)) < options.minSeedIoU
                || ratio > options.maxScaleChange || ratio < 1 / options.maxScaleChange
                || !isMostlyInside(refit, frame) || changed
            framesSinceCheck += 1
            if drifted || framesSinceCheck >= options.verifyInterval {
                framesSinceCheck = 0
                if regionHasFace(frame, around: refit) {
                    if drifted {
                        // The face is there but moved or changed size a lot: predict again from the
                        // box the new landmarks imply, so the cascade starts from the right framing.
                        let t1 = DispatchTime.now().uptimeNanoseconds
                        let again = predictor.predict(intensity, box: refit)
                        statistics.landmarkSeconds += seconds(since: t1)
                        result = (again, refit, .tracked)
                    } else {
                        result = (lm, seed, .tracked)
                    }
                }
            } else {
                result = (lm, seed, .tracked)
            }
        }
        if result == nil {
            lastLandmarks = nil
            lastThumbnail = nil
            if let box = detectFace(frame) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                var lm = predictor.predict(intensity, box: DlibRect(box))
                // One refinement: re-predict in the box the landmarks imply, which is how the box is
                // framed while tracking, so detected and tracked frames agree.
                let refined = boxFromLandmarks(lm)
                lm = predictor.predict(intensity, box: refined)
                statistics.landmarkSeconds += seconds(since: t0)
                result = (lm, refined, .detected)
                framesSinceCheck = 0
                lastThumbnail = thumbnail(intensity, refined)
            }
        }
        guard let r = result else { return nil }
        statistics.facesFound += 1
        if r.source == .tracked { statistics.trackedFrames += 1 }
        lastLandmarks = r.landmarks
        let quad = AlignmentQuad.ffhq(landmarks: r.landmarks)
        lastCenter = quad.center
        let pose = HeadPose.estimate(landmarks: r.landmarks, alignment: quad.transform)
        return FaceFrame(index: index, time: time, source: r.source, box: r.box, landmarks: r.landmarks,
                         rawQuad: quad, rawPose: pose)
    }

    /// The square box in which the predictor's mean shape best fits `landmarks` (least squares over a
    /// shift and one scale): the framing the predictor was trained with.
    public func boxFromLandmarks(_ lm: [Point2]) -> DlibRect {
        let s = predictor.initialShape
        let n = lm.count
        var mx = 0.0, my = 0.0, px = 0.0, py = 0.0
        for i in 0..<n { mx += Double(s[2 * i]); my += Double(s[2 * i + 1]); px += lm[i].x; py += lm[i].y }
        mx /= Double(n); my /= Double(n); px /= Double(n); py /= Double(n)
        var num = 0.0, den = 0.0
        for i in 0..<n {
            let ax = Double(s[2 * i]) - mx, ay = Double(s[2 * i + 1]) - my
            num += ax * (lm[i].x - px) + ay * (lm[i].y - py)
            den += ax * ax + ay * ay
        }
        let size = max(num / den, 8)
        let left = (px - size * mx).rounded(), top = (py - size * my).rounded()
        return DlibRect(left: Int(left), top: Int(top), right: Int(left + size.rounded()), bottom: Int(top + size.rounded()))
    }

    /// 16×16 point samples of the intensity image over `box` (0 outside the frame).
    func thumbnail(_ img: GrayImage, _ box: DlibRect) -> [Double] {
        var out = [Double]()
        out.reserveCapacity(256)
        for j in 0..<16 {
            for i in 0..<16 {
                let x = box.left + (2 * i + 1) * box.width / 32, y = box.top + (2 * j + 1) * box.height / 32
                out.append(x >= 0 && y >= 0 && x < img.width && y < img.height ? Double(img[x, y]) : 0)
            }
        }
        return out
    }

    func isMostlyInside(_ box: DlibRect, _ frame: RGBImage) -> Bool {
        let r = FaceRect(box)
        return Double(r.intersection(FaceRect(x: 0, y: 0, width: frame.width, height: frame.height)).area) >= 0.5 * Double(r.area)
    }

    /// Runs the cascades on the region around a tracked face, at sizes near it.
    func regionHasFace(_ frame: RGBImage, around box: DlibRect) -> Bool {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { statistics.detectionSeconds += seconds(since: t0); statistics.regionChecks += 1 }
        let w = box.width
        let region = FaceRect(x: box.left - w / 2, y: box.top - w / 2, width: 2 * w, height: 2 * w)
            .intersection(FaceRect(x: 0, y: 0, width: frame.width, height: frame.height))
        guard region.area > 0 else { return false }
        let gray = frame.cropped(region).luma()
        // The landmark box is tighter than a Haar box; allow the cascade's window from 0.6× to 2× of it.
        let params = HaarDetector.Parameters(scaleFactor: options.scaleFactor, minNeighbors: options.minNeighbors,
                                             minSize: (w * 6 / 10, w * 6 / 10), maxSize: (2 * w, 2 * w))
        return !cascadeHits(gray, params).isEmpty
    }

    /// Full-frame detection through the cascade chain; picks one face.
    func detectFace(_ frame: RGBImage) -> FaceRect? {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { statistics.detectionSeconds += seconds(since: t0); statistics.fullDetections += 1 }
        let gray = frame.luma()
        let minSide = max(24, Int(Double(min(frame.width, frame.height)) * options.minFaceFraction))
        let params = HaarDetector.Parameters(scaleFactor: options.scaleFactor, minNeighbors: options.minNeighbors,
                                             minSize: (minSide, minSide))
        let faces = cascadeHits(gray, params)
        return choose(faces, frameWidth: frame.width, frameHeight: frame.height)
    }

    /// Frontal, then alt2 frontal, then profile (both directions): the first cascade with hits wins.
    func cascadeHits(_ gray: GrayImage, _ params: HaarDetector.Parameters) -> [FaceRect] {
        let found = frontal.detect(gray, parameters: params)
        if !found.isEmpty { return found }
        if let alt = frontalAlt {
            let f = alt.detect(gray, parameters: params)
            if !f.isEmpty { return f }
        }
        if let profile {
            var f = profile.detect(gray, parameters: params)
            let mirrored = profile.detect(gray.mirrored(), parameters: params)
            f += mirrored.map { FaceRect(x: gray.width - $0.x - $0.width, y: $0.y, width: $0.width, height: $0.height) }
            return f
        }
        return []
    }

    /// Nearest to the last track if there was one; else largest, discounted by distance from centre.
    func choose(_ faces: [FaceRect], frameWidth: Int, frameHeight: Int) -> FaceRect? {
        guard !faces.isEmpty else { return nil }
        if let c = lastCenter {
            return faces.min { hypot($0.centerX - c.x, $0.centerY - c.y) < hypot($1.centerX - c.x, $1.centerY - c.y) }
        }
        let cx = Double(frameWidth) / 2, cy = Double(frameHeight) / 2
        let diag = hypot(cx, cy)
        func score(_ r: FaceRect) -> Double {
            Double(r.area) * (1 - 0.5 * hypot(r.centerX - cx, r.centerY - cy) / diag)
        }
        return faces.max { score($0) < score($1) }
    }

    private func seconds(since t0: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
}
