import Foundation

/// Finds the subject's face in each frame of a clip, cheaply. A full detection — Haar cascades for
/// candidates (frontal, then the alt2 frontal, then the profile cascade on the frame and its mirror
/// image), each candidate verified by dlib's HOG detector on the region around it — runs on the first
/// frame, after a shot cut and whenever the track is lost; the subject is then chosen among the verified
/// candidates (`SubjectChoice`) and later frames seed the landmark box from the previous frame's
/// landmarks without detection. Every `verifyInterval` frames, whenever the landmarks jump and whenever
/// the face region's appearance changes abruptly (an occlusion, the face leaving), the tracker checks the
/// region around the face and falls back to full detection if the face is not there. A strongly turned
/// face is kept only while dlib's HOG detector finds it, and framed by HOG's box (`Options.turnedYaw`);
/// beyond that, as on a profile, the frame has no face rather than landmarks off it. A subject that was
/// lost is re-acquired by its identity descriptor (dlib's face recognition network, when its model is
/// installed) or, within the same shot, by its last position.
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
        /// Which face is the subject.
        public var subject: SubjectChoice = .auto
        /// Verify Haar candidates with dlib's HOG detector (off: every candidate is accepted, the
        /// behaviour before verification, kept for measuring).
        public var verifyCandidates = true
        /// Shot cut threshold (see `ShotCutDetector`); ≤ 0 disables cut detection.
        public var cutThreshold = 30.0
        /// Use the identity descriptor to re-acquire a lost subject (when the model is installed).
        public var useIdentity = true
        /// Head yaw (radians, as estimated from the landmarks; 0.35 is about 28° of real turn) beyond
        /// which a face is kept only where dlib's HOG detector finds it, and its landmarks are predicted
        /// in HOG's box rather than in the box the previous landmarks imply: the 68-point predictor was
        /// trained on HOG boxes and, on a strongly turned face, the framing decides the shape (measured
        /// on Fixtures/cases/profile_turn at 47°: 0.03 of the eye distance from the turn's true
        /// landmarks HOG-framed, 0.14 tracked). ≤ 0 or without the HOG detector: never.
        public var turnedYaw = 0.35

        public init() {}
    }

    /// Counters and timings for the run report.
    public struct Statistics: Sendable, Equatable {
        public var frames = 0
        public var facesFound = 0
        public var fullDetections = 0
        public var regionChecks = 0
        public var trackedFrames = 0
        public var candidatesRejected = 0
        public var shotCuts = 0
        public var reacquired = 0
        public var descriptors = 0
        public var detectionSeconds = 0.0
        public var landmarkSeconds = 0.0
        public var verificationSeconds = 0.0
        public var identitySeconds = 0.0
        /// Frames whose turned face was framed by HOG, and frames where it was reported lost because HOG
        /// no longer found it (`Options.turnedYaw`).
        public var turnedFramings = 0
        public var turnedLost = 0

        public init() {}
    }

    public let options: Options
    public let predictor: ShapePredictor
    let frontal: HaarDetector
    let frontalAlt: HaarDetector?
    let profile: HaarDetector?
    let hog: HOGFaceDetector?
    /// dlib's face recognition network, when its model is installed and identity is on.
    public let recognizer: FaceRecognizer?
    public private(set) var statistics = Statistics()
    /// Frames (indices as passed to `process`) at which a shot cut was detected.
    public private(set) var shotStarts: [Int] = []

    private var lastLandmarks: [Point2]?
    /// The landmark box's motion over the last tracked frame, to lead the next seed: a head that moves a
    /// third of its width a frame would otherwise drag the landmarks behind it.
    private var velocity = (x: 0, y: 0)
    private var lastThumbnail: [Double]?
    private var framesSinceCheck = 0
    private var cuts: ShotCutDetector
    private var confidence = 0.0
    /// The subject as last seen, for re-acquisition.
    private var subjectDescriptor: [Float]?
    private var subjectBox: FaceRect?
    private var subjectID = 0
    private var shotOfLastSight = 0
    private var shot = 0

    public init(frontal: HaarDetector, frontalAlt: HaarDetector?, profile: HaarDetector?, predictor: ShapePredictor,
                hog: HOGFaceDetector? = nil, recognizer: FaceRecognizer? = nil, options: Options = Options()) {
        self.frontal = frontal
        self.frontalAlt = frontalAlt
        self.profile = profile
        self.predictor = predictor
        self.hog = options.verifyCandidates ? hog : nil
        self.recognizer = options.useIdentity ? recognizer : nil
        self.options = options
        self.cuts = ShotCutDetector(threshold: options.cutThreshold)
    }

    /// Loads the models; the frontal cascade and the predictor are required, the others optional (the
    /// recognition network is used when it is installed).
    public convenience init(paths: FaceModelPaths, options: Options = Options()) throws {
        let frontal = try HaarDetector(contentsOf: paths.frontalCascade)
        let predictor = try ShapePredictor(contentsOf: paths.predictor)
        let alt = try? HaarDetector(contentsOf: paths.frontalAltCascade)
        let profile = try? HaarDetector(contentsOf: paths.profileCascade)
        let hog = options.verifyCandidates ? try HOGFaceDetector() : nil
        let recognizer = options.useIdentity ? try? FaceRecognizer(contentsOf: paths.recognizer) : nil
        self.init(frontal: frontal, frontalAlt: alt, profile: profile, predictor: predictor, hog: hog,
                  recognizer: recognizer, options: options)
    }

    /// Forget the track (e.g. at a cut); the subject's identity is kept for re-acquisition.
    public func reset() {
        lastLandmarks = nil
        lastThumbnail = nil
        framesSinceCheck = 0
    }

    /// The subject's face in one frame, or nil when it is not there.
    public func process(_ frame: RGBImage, index: Int, time: Double? = nil) -> FaceFrame? {
        statistics.frames += 1
        if options.cutThreshold > 0, cuts.isCut(frame) {
            statistics.shotCuts += 1
            shotStarts.append(index)
            shot += 1
            reset()
        }
        let intensity = frame.meanIntensity()
        var result: (landmarks: [Point2], box: DlibRect, source: FaceFrame.Source, choice: String)?
        var rejected: [FaceRect] = []

        if let previous = lastLandmarks {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let last = boxFromLandmarks(previous)
            let seed = DlibRect(left: last.left + velocity.x, top: last.top + velocity.y,
                                right: last.right + velocity.x, bottom: last.bottom + velocity.y)
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
                if let found = faceInRegion(frame, around: refit) {
                    // The landmarks must sit on the face the check found; when they have slipped off it
                    // (fast motion, a partial exit) they are fitted again from the found box.
                    let t1 = DispatchTime.now().uptimeNanoseconds
                    let fresh = predictor.predict(intensity, box: boxFromLandmarks(predictor.predict(intensity, box: found)))
                    statistics.landmarkSeconds += seconds(since: t1)
                    let freshBox = boxFromLandmarks(fresh)
                    let offset = hypot(Double(freshBox.left + freshBox.right - refit.left - refit.right) / 2,
                                       Double(freshBox.top + freshBox.bottom - refit.top - refit.bottom) / 2)
                    let scale = Double(freshBox.width) / Double(max(refit.width, 1))
                    if offset > 0.15 * Double(refit.width) || scale > 1.2 || scale < 1 / 1.2 {
                        result = (fresh, freshBox, .tracked, "tracked")
                    } else if drifted {
                        // The face is there but moved or changed size a lot: predict again from the
                        // box the new landmarks imply, so the cascade starts from the right framing.
                        let t1 = DispatchTime.now().uptimeNanoseconds
                        let again = predictor.predict(intensity, box: refit)
                        statistics.landmarkSeconds += seconds(since: t1)
                        result = (again, refit, .tracked, "tracked")
                    } else {
                        result = (lm, seed, .tracked, "tracked")
                    }
                }
            } else {
                result = (lm, seed, .tracked, "tracked")
            }
        }
        if result == nil {
            lastLandmarks = nil
            lastThumbnail = nil
            let (chosen, rejects) = detectSubject(frame, intensity: intensity, index: index)
            rejected = rejects
            if let chosen {
                let t0 = DispatchTime.now().uptimeNanoseconds
                // One refinement: re-predict in the box the landmarks imply, which is how the box is
                // framed while tracking, so detected and tracked frames agree.
                let refined = boxFromLandmarks(chosen.landmarks)
                let lm = predictor.predict(intensity, box: refined)
                statistics.landmarkSeconds += seconds(since: t0)
                result = (lm, refined, .detected, chosen.choice)
                framesSinceCheck = 0
                lastThumbnail = thumbnail(intensity, refined)
            }
        }
        guard var r = result else {
            velocity = (0, 0)
            return nil
        }
        var quad = AlignmentQuad.ffhq(landmarks: r.landmarks)
        var pose = HeadPose.estimate(landmarks: r.landmarks, alignment: quad.transform)
        if options.turnedYaw > 0, hog != nil, abs(pose.yaw) > options.turnedYaw {
            guard let framed = hogFramed(frame, intensity: intensity, landmarks: r.landmarks) else {
                // Turned beyond what dlib's detector finds: the predictor's landmarks are no longer on
                // the face (on Fixtures/cases/profile_turn they mirror and the yaw flips sign), so the
                // face is reported lost rather than measured wrongly.
                lastLandmarks = nil
                lastThumbnail = nil
                velocity = (0, 0)
                statistics.turnedLost += 1
                return nil
            }
            r.landmarks = framed.landmarks
            r.box = framed.box
            quad = AlignmentQuad.ffhq(landmarks: r.landmarks)
            pose = HeadPose.estimate(landmarks: r.landmarks, alignment: quad.transform)
        }
        if let previous = lastLandmarks, r.source == .tracked {
            let a = boxFromLandmarks(previous), b = boxFromLandmarks(r.landmarks)
            velocity = ((b.left + b.right - a.left - a.right) / 2, (b.top + b.bottom - a.top - a.bottom) / 2)
        } else {
            velocity = (0, 0)
        }
        statistics.facesFound += 1
        if r.source == .tracked { statistics.trackedFrames += 1 }
        lastLandmarks = r.landmarks
        subjectBox = FaceRect(r.box)
        shotOfLastSight = shot
        var face = FaceFrame(index: index, time: time, source: r.source, box: r.box, landmarks: r.landmarks,
                             rawQuad: quad, rawPose: pose)
        face.choice = r.choice
        face.confidence = confidence
        face.subject = subjectID
        face.rejected = rejected
        return face
    }

    /// A turned face's landmarks predicted in the HOG box that dlib's detector puts on it, when it finds
    /// one that is this face (overlapping the landmarks' box by half); nil when HOG does not find it
    /// (beyond about 55° of yaw), and the tracked landmarks stand.
    private func hogFramed(_ frame: RGBImage, intensity: GrayImage, landmarks: [Point2]) -> (landmarks: [Point2], box: DlibRect)? {
        guard let hog else { return nil }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let box = boxFromLandmarks(landmarks), w = box.width
        let region = FaceRect(x: box.left - w / 2, y: box.top - w / 2, width: 2 * w, height: 2 * w)
        let found = hog.detect(frame, in: region, scale: hogScale(faceSide: w))
        statistics.verificationSeconds += seconds(since: t0)
        let own = FaceRect(box)
        guard let best = found.map({ (d: $0, iou: FaceRect($0.box).iou(own)) }).filter({ $0.iou >= 0.5 })
                .max(by: { $0.iou < $1.iou }) else { return nil }
        let t1 = DispatchTime.now().uptimeNanoseconds
        let lm = predictor.predict(intensity, box: best.d.box)
        statistics.landmarkSeconds += seconds(since: t1)
        statistics.turnedFramings += 1
        confidence = 1 / (1 + exp(-3 * best.d.score))
        return (lm, best.d.box)
    }

    /// A subject acquired by full-frame detection: its first landmarks and how it was chosen.
    private struct Acquired {
        var landmarks: [Point2]
        var choice: String
    }

    /// Full-frame detection, verification and the choice of the subject among verified candidates.
    private func detectSubject(_ frame: RGBImage, intensity: GrayImage, index: Int) -> (Acquired?, [FaceRect]) {
        let candidates = verifiedCandidates(frame)
        let rejected = candidates.filter { !$0.accepted }.map(\.box)
        statistics.candidatesRejected += rejected.count
        // Rejected candidates stay rejected even right where the subject was just lost: they are mostly
        // profiles the HOG model does not cover, and the 68-point predictor's landmarks on a profile box are
        // off the face (0.3–0.5 of the eye distance from the turn's truth on the profile-turn cases of
        // tools/make_face_cases.py), so such frames are reported without a face.
        let accepted = candidates.filter(\.accepted)
        guard !accepted.isEmpty else { return (nil, rejected) }
        let landmarks = accepted.map { c -> [Point2] in
            let t0 = DispatchTime.now().uptimeNanoseconds
            defer { statistics.landmarkSeconds += seconds(since: t0) }
            return predictor.predict(intensity, box: DlibRect(c.box))
        }
        var pick: Int?
        var choice = "\(options.subject)"
        var newSubject = subjectID == 0
        if let known = subjectDescriptor, let recognizer {
            // Re-acquire the subject by identity, wherever it is now.
            let t0 = DispatchTime.now().uptimeNanoseconds
            let descriptors = (try? recognizer.describe(accepted.indices.map { (frame, landmarks[$0]) })) ?? []
            statistics.identitySeconds += seconds(since: t0)
            statistics.descriptors += descriptors.count
            let distances = descriptors.map { FaceRecognizer.distance($0, known) }
            if let best = distances.indices.min(by: { distances[$0] < distances[$1] }),
               distances[best] < FaceRecognizer.samePersonDistance {
                pick = best
                choice = "identity"
                statistics.reacquired += 1
            } else {
                newSubject = true
            }
        } else if let last = subjectBox, shot == shotOfLastSight {
            // No identity model: within the shot, the candidate nearest the subject's last place.
            let d = accepted.map { hypot($0.box.centerX - last.centerX, $0.box.centerY - last.centerY) }
            if let best = d.indices.min(by: { d[$0] < d[$1] }), d[best] < 1.5 * Double(last.width) {
                pick = best
                choice = "position"
                statistics.reacquired += 1
            } else {
                newSubject = true
            }
        } else {
            newSubject = true
        }
        let p = pick ?? chooseByRule(accepted, frameWidth: frame.width, frameHeight: frame.height)
        if newSubject { subjectID += 1 }
        let c = accepted[p]
        confidence = c.hogScore.map { 1 / (1 + exp(-3 * $0)) } ?? (options.verifyCandidates ? 0.3 : 0.5)
        if recognizer != nil, choice != "identity" || subjectDescriptor == nil {
            let t0 = DispatchTime.now().uptimeNanoseconds
            if let d = try? recognizer?.describe(frame, landmarks: landmarks[p]) {
                statistics.descriptors += 1
                // The first sight of a subject defines it; later acquisitions do not drift it.
                if newSubject || subjectDescriptor == nil { subjectDescriptor = d }
            }
            statistics.identitySeconds += seconds(since: t0)
        }
        return (Acquired(landmarks: landmarks[p], choice: choice), rejected)
    }

    /// The index of the subject among `faces` by the user's rule.
    func chooseByRule(_ faces: [FaceCandidate], frameWidth: Int, frameHeight: Int) -> Int {
        let cx = Double(frameWidth) / 2, cy = Double(frameHeight) / 2
        func dist(_ c: FaceCandidate, _ x: Double, _ y: Double) -> Double { hypot(c.box.centerX - x, c.box.centerY - y) }
        let all = Array(faces.indices)
        switch options.subject {
        case .largest:
            return all.max { faces[$0].box.area < faces[$1].box.area }!
        case .center:
            return all.min { dist(faces[$0], cx, cy) < dist(faces[$1], cx, cy) }!
        case let .point(x, y):
            return all.min { dist(faces[$0], x, y) < dist(faces[$1], x, y) }!
        case let .index(n):
            let byX = all.sorted { faces[$0].box.centerX < faces[$1].box.centerX }
            return byX[min(n, byX.count) - 1]
        case .auto:
            // Size, discounted by distance from the centre, weighted by how sure the verifier is.
            let diag = hypot(cx, cy)
            func score(_ c: FaceCandidate) -> Double {
                let sure = c.hogScore.map { 1 / (1 + exp(-3 * $0)) } ?? 0.5
                return Double(c.box.area) * (1 - 0.5 * dist(c, cx, cy) / diag) * sure
            }
            return all.max { score(faces[$0]) < score(faces[$1]) }!
        }
    }

    /// The square box in which the predictor's mean shape best fits `landmarks`.
    public func boxFromLandmarks(_ lm: [Point2]) -> DlibRect { predictor.box(fitting: lm) }

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

    /// Runs the cascades on the region around a tracked face, at sizes near it; when they miss, dlib's
    /// HOG detector on the same region (a face the track already verified needs recall here, not
    /// precision). Updates the confidence from the HOG score when HOG is run.
    func faceInRegion(_ frame: RGBImage, around box: DlibRect) -> DlibRect? {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { statistics.detectionSeconds += seconds(since: t0); statistics.regionChecks += 1 }
        let w = box.width
        let region = FaceRect(x: box.left - w / 2, y: box.top - w / 2, width: 2 * w, height: 2 * w)
            .intersection(FaceRect(x: 0, y: 0, width: frame.width, height: frame.height))
        guard region.area > 0 else { return nil }
        let gray = frame.cropped(region).luma()
        // The landmark box is tighter than a Haar box; allow the cascade's window from 0.6× to 2× of it.
        let params = HaarDetector.Parameters(scaleFactor: options.scaleFactor, minNeighbors: options.minNeighbors,
                                             minSize: (w * 6 / 10, w * 6 / 10), maxSize: (2 * w, 2 * w))
        let target = FaceRect(box)
        let hits = cascadeHits(gray, params).map { FaceRect(x: $0.x + region.x, y: $0.y + region.y, width: $0.width, height: $0.height) }
        if let nearest = hits.min(by: { hypot($0.centerX - target.centerX, $0.centerY - target.centerY)
                                         < hypot($1.centerX - target.centerX, $1.centerY - target.centerY) }) {
            return DlibRect(nearest)
        }
        guard let hog else { return nil }
        let t1 = DispatchTime.now().uptimeNanoseconds
        defer { statistics.verificationSeconds += seconds(since: t1) }
        let found = hog.detect(frame, in: region, scale: hogScale(faceSide: w))
        guard let best = found.first(where: { FaceRect($0.box).intersection(target).area > 0 }) else { return nil }
        confidence = 1 / (1 + exp(-3 * best.score))
        return best.box
    }

    /// Scale that brings a face of `faceSide` pixels to about 100, so dlib's 80-pixel HOG window finds it
    /// in one or two pyramid levels.
    func hogScale(faceSide: Int) -> Double {
        min(4, max(0.2, 100 / Double(max(faceSide, 1))))
    }

    /// Full-frame Haar candidates through the cascade chain, each verified by HOG on the region around
    /// it; the chain goes on to the next cascade while no candidate is accepted.
    func verifiedCandidates(_ frame: RGBImage) -> [FaceCandidate] {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { statistics.detectionSeconds += seconds(since: t0); statistics.fullDetections += 1 }
        let gray = frame.luma()
        let minSide = max(24, Int(Double(min(frame.width, frame.height)) * options.minFaceFraction))
        let params = HaarDetector.Parameters(scaleFactor: options.scaleFactor, minNeighbors: options.minNeighbors,
                                             minSize: (minSide, minSide))
        var all: [FaceCandidate] = []
        for (name, boxes) in cascadeStages(gray, params) {
            let checked = boxes().map { verify(FaceCandidate(box: $0, cascade: name, accepted: false), in: frame) }
            all += checked
            if checked.contains(where: \.accepted) { break }
        }
        return all
    }

    /// HOG on the region around a candidate: accepted when HOG finds a face whose centre lies inside the
    /// candidate's box at a comparable size (dlib's boxes are tighter than the cascades').
    func verify(_ candidate: FaceCandidate, in frame: RGBImage) -> FaceCandidate {
        var c = candidate
        guard let hog else {
            c.accepted = true
            return c
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { statistics.verificationSeconds += seconds(since: t0) }
        let b = c.box
        let region = FaceRect(x: b.x - b.width / 2, y: b.y - b.height / 2, width: 2 * b.width, height: 2 * b.height)
        let found = hog.detect(frame, in: region, scale: hogScale(faceSide: b.width))
        let match = found.first { d in
            let r = FaceRect(d.box)
            let ratio = Double(r.width) / Double(b.width)
            return r.centerX >= Double(b.x) && r.centerX <= Double(b.x + b.width)
                && r.centerY >= Double(b.y) && r.centerY <= Double(b.y + b.height) && ratio > 0.4 && ratio < 1.5
        }
        c.hogScore = match?.score
        c.accepted = match != nil
        return c
    }

    /// The cascade chain, each stage run only when asked for.
    func cascadeStages(_ gray: GrayImage, _ params: HaarDetector.Parameters) -> [(String, () -> [FaceRect])] {
        var stages: [(String, () -> [FaceRect])] = [("frontal", { self.frontal.detect(gray, parameters: params) })]
        if let alt = frontalAlt { stages.append(("frontal-alt2", { alt.detect(gray, parameters: params) })) }
        if let profile {
            stages.append(("profile", {
                var f = profile.detect(gray, parameters: params)
                let mirrored = profile.detect(gray.mirrored(), parameters: params)
                f += mirrored.map { FaceRect(x: gray.width - $0.x - $0.width, y: $0.y, width: $0.width, height: $0.height) }
                return f
            }))
        }
        return stages
    }

    /// Frontal, then alt2 frontal, then profile (both directions): the first cascade with hits wins.
    func cascadeHits(_ gray: GrayImage, _ params: HaarDetector.Parameters) -> [FaceRect] {
        for (_, run) in cascadeStages(gray, params) {
            let found = run()
            if !found.isEmpty { return found }
        }
        return []
    }

    private func seconds(since t0: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
}

extension ShapePredictor {
    /// The square box in which the predictor's mean shape best fits `lm` (least squares over a shift and
    /// one scale): the framing the predictor was trained with.
    public func box(fitting lm: [Point2]) -> DlibRect {
        let s = initialShape
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
}
