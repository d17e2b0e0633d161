import ArgumentParser
import Faces
import Foundation
import Video

/// `avatarize faces IN.mp4`: finds, tracks and aligns the face in every frame; writes the track as JSON
/// and, optionally, a preview with landmarks, quad and pose axes drawn, and the aligned crops as a video.
struct FacesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faces",
        abstract: "Detect, track and align the face in every frame (boxes, 68 landmarks, quads, poses, EG3D cameras).",
        discussion: """
        Uses OpenCV's Haar cascades (Debian package opencv-data) for candidates, dlib's HOG detector \
        (libdlib-dev) to verify them, and dlib's 68-point shape predictor (libdlib-data). Frames without \
        a face are filled from their neighbours and counted; shot cuts reset the track. The preview \
        outlines rejected candidates in magenta. \
        Example: avatarize faces talk.mp4 --json faces.json --preview preview.mp4 --crops crops.mp4
        """
    )

    @Argument(help: "Input video.", completion: .file()) var input: String
    @Option(help: "Write the per-frame track (raw and smoothed) as JSON here.") var json: String?
    @Option(help: "Write a preview video with landmarks, quad and pose axes drawn.") var preview: String?
    @Option(help: "Write the aligned face crops as a video.") var crops: String?
    @Option(help: "Side of the aligned crops in pixels (256 for the encoder, 512 for output).") var cropSize = 512
    @Option(help: "Folder holding the cascades and the shape predictor (default: Debian's paths, or $\(FaceModelPaths.environmentVariable)).")
    var faceModels: String?
    @Option(help: "Gaussian σ in frames for the quad centre (STIT's 1; 0 disables).") var centerSigma = 1.0
    @Option(help: "Gaussian σ in frames for the quad's x/y vectors (STIT's 3; 0 disables).") var xySigma = 3.0
    @Option(help: "Gaussian σ in frames for yaw, pitch and roll (0 disables).") var poseSigma = 3.0
    @Option(help: ArgumentHelp("Which face is the subject: auto, largest, center, N (the N-th from the left where faces first appear) or X,Y (the face nearest that point).", valueName: "choice"))
    var face: String = "auto"
    @Flag(help: "Add dlib's 128-d identity descriptor of the face to every measured frame of the JSON.") var identity = false
    @Flag(help: "Accept every Haar candidate without dlib's HOG verification (for comparison).") var noVerify = false
    @Option(help: "Stop after this many frames.") var maxFrames: Int?
    @Option(help: "x264 CRF for the videos written.") var crf = 18

    func validate() throws {
        guard cropSize >= 16 && cropSize <= 4096 else { throw ValidationError("--crop-size must be 16…4096") }
        guard centerSigma >= 0, xySigma >= 0, poseSigma >= 0 else { throw ValidationError("smoothing σ must be ≥ 0") }
        guard SubjectChoice(argument: face) != nil else {
            throw ValidationError("--face \(face): expected auto, largest, center, a number from 1, or X,Y")
        }
        if identity && json == nil { throw ValidationError("--identity needs --json FILE") }
    }

    func run() throws {
        let url = URL(fileURLWithPath: input)
        var options = FaceTracker.Options()
        options.subject = SubjectChoice(argument: face) ?? .auto
        options.verifyCandidates = !noVerify
        let paths = FaceModelPaths(directory: faceModels)
        let tracker = try FaceTracker(paths: paths, options: options)
        // The descriptors use their own network instance; loading it fails loudly when asked for.
        let recognizer = identity ? try FaceRecognizer(contentsOf: paths.recognizer) : nil
        var identities: [Int: [Float]] = [:]
        var identitySeconds = 0.0
        let smoothing = FaceTrackSmoothing(centerSigma: centerSigma, xySigma: xySigma, poseSigma: poseSigma)

        // Pass 1: track. Frames are not kept, so long clips need no more memory than short ones.
        let reader = try VideoReader(url: url)
        let total = maxFrames.map { min($0, reader.expectedFrameCount ?? $0) } ?? reader.expectedFrameCount
        let progress = ProgressDisplay(label: "faces")
        var measured: [FaceFrame?] = []
        var times: [Double?] = []
        let began = Date()
        while maxFrames.map({ measured.count < $0 }) ?? true, let frame = try reader.nextFrame() {
            let image = RGBImage(width: frame.width, height: frame.height, pixels: frame.rgb)
            let face = tracker.process(image, index: measured.count, time: frame.seconds)
            if let recognizer, let face {
                let t0 = Date()
                identities[face.index] = try recognizer.describe(image, landmarks: face.landmarks)
                identitySeconds += Date().timeIntervalSince(t0)
            }
            measured.append(face)
            times.append(frame.seconds)
            progress.update(done: measured.count, total: total)
        }
        progress.finish()
        let trackSeconds = Date().timeIntervalSince(began)
        let frames = try smoothing.apply(measured, times: times, shotStarts: tracker.shotStarts)
        let stats = tracker.statistics

        if let json {
            var report = FaceTrackReport(source: url.path, width: reader.width, height: reader.height, frames: frames, smoothing: smoothing)
            report.annotate(shotStarts: tracker.shotStarts, identities: identities)
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            try enc.encode(report).write(to: URL(fileURLWithPath: json), options: .atomic)
        }

        // Pass 2: the videos, from the smoothed track.
        if preview != nil || crops != nil {
            let again = try VideoReader(url: url)
            var options = VideoWriter.Options()
            options.crf = crf
            options.frameRate = again.frameRate
            options.timeBase = again.timeBase
            let previewWriter = try preview.map { try VideoWriter(url: URL(fileURLWithPath: $0), width: again.width, height: again.height, options: options) }
            let cropWriter = try crops.map { try VideoWriter(url: URL(fileURLWithPath: $0), width: cropSize, height: cropSize, options: options) }
            let progress2 = ProgressDisplay(label: "writing")
            var i = 0
            while i < frames.count, let frame = try again.nextFrame() {
                let face = frames[i]
                let image = RGBImage(width: frame.width, height: frame.height, pixels: frame.rgb)
                if let previewWriter {
                    var drawn = image
                    FaceOverlay.draw(on: &drawn, frame: face)
                    var out = frame
                    out.rgb = drawn.pixels
                    try previewWriter.write(out)
                }
                if let cropWriter {
                    let crop = AlignedCrop.crop(image, transform: face.quad.transform, size: cropSize)
                    try cropWriter.write(VideoFrame(width: cropSize, height: cropSize, rgb: crop.pixels, pts: frame.pts,
                                                    timeBase: frame.timeBase, index: frame.index))
                }
                i += 1
                progress2.update(done: i, total: frames.count)
            }
            progress2.finish()
            try previewWriter?.finish()
            try cropWriter?.finish()
        }

        let n = max(frames.count, 1)
        let filled = frames.filter { $0.isFilled }.count
        print("\(input): \(frames.count) frames, face found in \(frames.count - filled), filled \(filled)")
        print(String(format: "  detection %.2f ms/frame (%d full-frame, %d region checks), landmarks %.2f ms/frame, %d frames tracked",
                     1000 * stats.detectionSeconds / Double(n), stats.fullDetections, stats.regionChecks,
                     1000 * stats.landmarkSeconds / Double(n), stats.trackedFrames))
        print(String(format: "  verification %.2f ms/frame (%d candidates rejected), %d shot cuts, %d re-acquisitions, subjects %d",
                     1000 * stats.verificationSeconds / Double(n), stats.candidatesRejected, stats.shotCuts, stats.reacquired,
                     Set(frames.compactMap { $0.subject }).count))
        if stats.turnedFramings + stats.turnedLost > 0 {
            print("  turned faces: \(stats.turnedFramings) frames framed by HOG, \(stats.turnedLost) lost beyond HOG's reach")
        }
        let confidences = frames.compactMap { $0.confidence }
        if !confidences.isEmpty {
            print(String(format: "  confidence: mean %.2f, lowest %.2f", confidences.reduce(0, +) / Double(confidences.count), confidences.min()!))
        }
        if identity {
            print(String(format: "  identity descriptors: %d, %.1f ms each", identities.count, 1000 * identitySeconds / Double(max(identities.count, 1))))
        }
        print(String(format: "  tracking pass %.1f s (%.1f fps including decoding)", trackSeconds, Double(frames.count) / max(trackSeconds, 1e-9)))
        if let json { print("  track: \(json)") }
        if let preview { print("  preview: \(preview)") }
        if let crops { print("  crops (\(cropSize)²): \(crops)") }
    }
}
