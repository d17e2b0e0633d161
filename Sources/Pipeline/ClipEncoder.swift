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

/// Clip → latent track: finds and tracks the face in every frame, smooths and fills the alignment and
/// pose over time (Faces), crops each aligned face to 256² and inverts it with the encoder.
/// Two decoding passes keep memory flat in the clip's length: the first collects landmarks only, the
/// second crops and encodes with the smoothed quads.
public struct ClipEncoder {
    public var faceModels: FaceModelPaths
    public var faceSmoothing = FaceTrackSmoothing()
    public var start: Double = 0
    public var duration: Double? = nil

    public init(faceModels: FaceModelPaths = FaceModelPaths()) { self.faceModels = faceModels }

    /// `progress` is told (stage, frames done, frames expected) and returns false to cancel.
    public func encode(_ input: URL, models: AvatarModels, logger: Logger,
                       progress: ((_ stage: String, _ done: Int, _ total: Int?) -> Bool)? = nil) throws -> (LatentTrack, EncodeReport) {
        var stages: [(String, Double)] = []
        // Pass 1: faces.
        var t0 = Date()
        let tracker = try FaceTracker(paths: faceModels)
        let reader = try VideoReader(url: input, options: .init(start: start, duration: duration))
        let expected = reader.expectedFrameCount
        var measured: [FaceFrame?] = []
        var times: [Double?] = []
        var pts: [Int64] = []
        let frames = FramePrefetcher(reader: reader)
        while let f = try frames.next() {
            let img = RGBImage(width: f.width, height: f.height, pixels: f.rgb)
            measured.append(tracker.process(img, index: measured.count, time: f.seconds))
            times.append(f.seconds)
            pts.append(f.pts)
            if progress?("faces", measured.count, expected) == false {
                frames.stop()
                throw PipelineError.cancelled(output: input.path)
            }
        }
        frames.stop()
        let lost = reader.framesLost
        let faces = try faceSmoothing.apply(measured, times: times)
        stages.append(("faces", Date().timeIntervalSince(t0)))

        // Pass 2: aligned crops → encoder.
        t0 = Date()
        let source = try TrackSource.describe(input, width: reader.width, height: reader.height, frameRate: reader.frameRate,
                                              timeBase: reader.timeBase, start: start, duration: duration)
        let arch = models.encoder.architecture
        var track = LatentTrack(source: source, model: models.trackIdentity, numWs: arch.styleCount, wDim: arch.styleWidth)
        let second = FramePrefetcher(reader: try VideoReader(url: input, options: .init(start: start, duration: duration)))
        var i = 0
        var cropSeconds = 0.0
        while let f = try second.next() {
            guard i < faces.count else { break }
            let face = faces[i]
            let c0 = Date()
            let crop = AlignedCrop.crop(RGBImage(width: f.width, height: f.height, pixels: f.rgb), transform: face.quad.transform, size: EncoderArchitecture.inputSize)
            cropSeconds += Date().timeIntervalSince(c0)
            let out = try models.encoder.encode(imageTensor(crop))
            track.append(code: out.codes.data, camera: face.camera.vector.map { Float($0) },
                         quad: face.quad.corners.flatMap { [Float($0.x), Float($0.y)] },
                         landmarks: face.landmarks.flatMap { [Float($0.x), Float($0.y)] },
                         pts: f.pts, faceFound: !face.isFilled)
            i += 1
            if progress?("encode", i, faces.count) == false {
                second.stop()
                throw PipelineError.cancelled(output: input.path)
            }
        }
        second.stop()
        let encodeSeconds = Date().timeIntervalSince(t0)
        stages.append(("align+crop", cropSeconds))
        stages.append(("encoder", encodeSeconds - cropSeconds))
        let found = measured.compactMap { $0 }.count
        return (track, EncodeReport(frames: track.count, facesFound: found, framesFilled: track.count - found,
                                    framesLost: lost, stageSeconds: stages))
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
