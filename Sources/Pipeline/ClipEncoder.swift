import Faces
import Foundation
import Logging
import Models
import Tensors
import Video

/// What encoding a clip reports (faces found, frames filled, time per stage).
public struct EncodeReport: Sendable {
    public var frames: Int
    public var facesFound: Int
    public var framesFilled: Int
    public var framesLost: Int
    public var stageSeconds: [(String, Double)]
}

/// The first pass over a clip: the face in every frame, measured into a file on disk and read back
/// filled and smoothed over time a frame at a time. It is cheap and runs over the whole clip even when
/// several workers encode its segments, so that every segment sees the alignment a whole-clip run would.
public struct FacePass {
    public var faces: SmoothedFaceTrack
    public var facesFound: Int
    public var framesLost: Int
    /// Whole pass, of which `modelSeconds` went to reading the face models.
    public var seconds: Double
    public var modelSeconds: Double = 0

    /// A face pass made before (by another worker), from its measurements file.
    public init(measurements url: URL, smoothing: FaceTrackSmoothing = FaceTrackSmoothing()) throws {
        let file = try MeasuredFaceFile(url: url)
        self.init(faces: try smoothing.track(file), facesFound: file.facesFound, framesLost: 0, seconds: 0)
    }

    init(faces: SmoothedFaceTrack, facesFound: Int, framesLost: Int, seconds: Double) {
        self.faces = faces; self.facesFound = facesFound; self.framesLost = framesLost; self.seconds = seconds
    }
}

/// Clip → latent track: finds and tracks the face in every frame, smooths and fills the alignment and
/// pose over time (Faces), crops each aligned face to 256² and inverts it with the encoder.
/// Two decoding passes keep memory flat in the clip's length: the first writes the measured faces to
/// disk, the second reads them back smoothed, crops and encodes, and writes the codes to disk.
public struct ClipEncoder {
    public var faceModels: FaceModelPaths
    public var faceSmoothing = FaceTrackSmoothing()
    public var start: Double = 0
    public var duration: Double? = nil
    /// Which face is the subject when there are several (`--face`).
    public var subject: SubjectChoice = .auto

    public init(faceModels: FaceModelPaths = FaceModelPaths()) { self.faceModels = faceModels }

    /// Encodes the clip into a latent track written to `track`. `progress` is told (stage, frames done,
    /// frames expected) and returns false to cancel.
    public func encode(_ input: URL, models: AvatarModels, to track: URL, logger: Logger,
                       progress: ((_ stage: String, _ done: Int, _ total: Int?) -> Bool)? = nil) throws -> (LatentTrack, EncodeReport) {
        let scratch = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let faces = try facePass(input, measurements: scratch.appendingPathComponent("faces.measurements"), progress: progress)
        // The encoder lives for this pass only, so that it is gone before the generators are read (AvatarModels).
        let encoder = EncoderOnDemand(models)
        defer { encoder.release() }
        var (encoded, report) = try encodePass(input, faces: faces, models: models, network: try encoder.network(), to: track, progress: progress)
        report.stageSeconds.insert(("load encoder", encoder.buildSeconds), at: 2)
        return (encoded, report)
    }

    /// Pass 1: faces of the whole clip (or the encoder's time range), measured into the file at
    /// `measurements`.
    public func facePass(_ input: URL, measurements url: URL,
                         progress: ((_ stage: String, _ done: Int, _ total: Int?) -> Bool)? = nil) throws -> FacePass {
        let t0 = Date()
        var trackerOptions = FaceTracker.Options()
        trackerOptions.subject = subject
        let tracker = try FaceTracker(paths: faceModels, options: trackerOptions)
        let modelSeconds = Date().timeIntervalSince(t0)
        let reader = try VideoReader(url: input, options: .init(start: start, duration: duration))
        let expected = reader.expectedFrameCount
        let writer = try MeasuredFaceFile.Writer(url: url)
        let frames = FramePrefetcher(reader: reader)
        defer { frames.stop() }
        var count = 0
        while let f = try frames.next() {
            let img = RGBImage(width: f.width, height: f.height, pixels: f.rgb)
            try writer.append(tracker.process(img, index: count, time: f.seconds), time: f.seconds)
            count += 1
            if progress?("faces", count, expected) == false {
                writer.cancel()
                throw PipelineError.cancelled(output: input.path)
            }
        }
        frames.stop()
        try writer.finish()
        let file = try MeasuredFaceFile(url: url)
        // Shot cuts the tracker found: nothing is smoothed or filled across them.
        var pass = FacePass(faces: try faceSmoothing.track(file, shotStarts: tracker.shotStarts), facesFound: file.facesFound,
                            framesLost: reader.framesLost, seconds: Date().timeIntervalSince(t0))
        pass.modelSeconds = modelSeconds
        return pass
    }

    /// Pass 2: aligned crops → encoder (`network`, made from `models`), for the clip's frames `frames` (all when
    /// nil), written frame by frame to the track at `url`. Frames are counted from the start of the encoder's time
    /// range, in decoding order, as in the face pass.
    public func encodePass(_ input: URL, faces pass: FacePass, frames range: Range<Int>? = nil, models: AvatarModels,
                           network: FaceEncoder, to url: URL,
                           progress: ((_ stage: String, _ done: Int, _ total: Int?) -> Bool)? = nil) throws -> (LatentTrack, EncodeReport) {
        let faces = pass.faces
        let wanted = range.map { $0.clamped(to: 0..<faces.count) } ?? 0..<faces.count
        let t0 = Date()
        let reader = try VideoReader(url: input, options: .init(start: start, duration: duration))
        let source = try TrackSource.describe(input, width: reader.width, height: reader.height, frameRate: reader.frameRate,
                                              timeBase: reader.timeBase, start: start, duration: duration)
        let layout = network.layout
        let writer = try LatentTrackWriter(url: url, source: source, model: models.trackIdentity, numWs: layout.styleCount, wDim: layout.wDim)
        let second = FramePrefetcher(reader: reader)
        defer { second.stop() }
        var i = 0
        var cropSeconds = 0.0
        while i < wanted.upperBound, let f = try second.next() {
            defer { i += 1 }
            guard i >= wanted.lowerBound else { continue }
            let face = try faces.frame(i)
            let c0 = Date()
            // The aligned face as the encoder's own loader prepared it (EncoderPreprocessing).
            let pre = models.encoderPreprocessing
            let crop = AlignedCrop.crop(RGBImage(width: f.width, height: f.height, pixels: f.rgb), transform: face.quad.transform,
                                        size: pre.cropSide(for: layout.inputSide))
            let encoderInput = pre.input(crop.pixels, from: crop.width, side: layout.inputSide)
            cropSeconds += Date().timeIntervalSince(c0)
            let codes = try network.codes(encoderInput)
            try writer.append(TrackFrame(code: codes.data, camera: face.camera.vector.map { Float($0) },
                                         quad: face.quad.corners.flatMap { [Float($0.x), Float($0.y)] },
                                         landmarks: face.landmarks.flatMap { [Float($0.x), Float($0.y)] },
                                         pts: f.pts, faceFound: !face.isFilled))
            if progress?("encode", i + 1 - wanted.lowerBound, wanted.count) == false {
                writer.cancel()
                throw PipelineError.cancelled(output: input.path)
            }
        }
        second.stop()
        let track = try writer.finish()
        let encodeSeconds = Date().timeIntervalSince(t0)
        let stages = [("load face models", pass.modelSeconds), ("faces", pass.seconds - pass.modelSeconds), ("align+crop", cropSeconds), ("encoder", encodeSeconds - cropSeconds)]
        return (track, EncodeReport(frames: track.count, facesFound: pass.facesFound, framesFilled: track.count - track.facesFound,
                                    framesLost: pass.framesLost, stageSeconds: stages))
    }
}

/// RGB8 picture → [3, H, W] tensor in [−1, 1] (the encoder's input normalisation: (x/255 − 0.5)/0.5).
public func imageTensor(_ img: RGBImage) -> Tensor {
    let hw = img.width * img.height
    var data = [Float](repeating: 0, count: 3 * hw)
    img.pixels.withUnsafeBufferPointer { p in
        for i in 0..<hw { for c in 0..<3 { data[c * hw + i] = Float(p[i * 3 + c]) / 127.5 - 1 } }
    }
    return Tensor(shape: [3, img.height, img.width], data: data)
}

/// [3, H, W] tensor in about [−1, 1] → RGB8 (what EG3D's demo scripts do: (x + 1) · 127.5, clamped).
public func rgbImage(_ t: Tensor) -> RGBImage {
    let h = t.shape[1], w = t.shape[2], hw = h * w
    var px = [UInt8](repeating: 0, count: 3 * hw)
    t.data.withUnsafeBufferPointer { d in
        for i in 0..<hw { for c in 0..<3 {
            px[i * 3 + c] = UInt8(max(0, min(255, ((d[c * hw + i] + 1) * 127.5).rounded())))
        } }
    }
    return RGBImage(width: w, height: h, pixels: px)
}
