import ArgumentParser
import Faces
import Foundation
import Video

/// `avatarize bench faces`: detection + landmarks throughput while tracking (detection only when the
/// track is lost or due a region check), on decoded frames held in memory so decoding is not timed.
/// Also times one full-frame detection, one landmark prediction and one identity descriptor (dlib's face
/// recognition network, when installed) on their own. Targets: ≤ 30 ms a frame for tracking at 720p,
/// ≤ 40 ms per described face.
struct BenchFacesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faces",
        abstract: "Measure face tracking speed (detection + verification + landmarks per frame) and identity descriptors.",
        discussion: "Build with -c release before quoting numbers. Example: avatarize bench faces --input talking-wide-1280x720.mp4"
    )

    @Option(help: "Clip to use (default: shared/media/talking-square-512.mp4 beside the repository).") var input: String?
    @Option(help: "Frames to decode and track.") var frames = 250
    @Option(help: "Passes over the frames (median reported).") var runs = 3
    @Option(help: "Folder holding the face models (default: Debian's paths).") var faceModels: String?

    func run() throws {
        let path = input ?? ["../shared/media/talking-square-512.mp4", "/work/shared/media/talking-square-512.mp4"]
            .first { FileManager.default.fileExists(atPath: $0) } ?? "talking-square-512.mp4"
        let reader = try VideoReader(url: URL(fileURLWithPath: path))
        var images: [RGBImage] = []
        while images.count < frames, let f = try reader.nextFrame() {
            images.append(RGBImage(width: f.width, height: f.height, pixels: f.rgb))
        }
        guard let first = images.first else { throw ValidationError("no frames in \(path)") }
        let paths = FaceModelPaths(directory: faceModels)
        var wall: [Double] = [], cpu: [Double] = []
        var last = FaceTracker.Statistics()
        for run in 0..<runs {
            let tracker = try FaceTracker(paths: paths)
            let c0 = cpuSeconds(RUSAGE_SELF)
            let t0 = Date()
            var found = 0
            for (i, img) in images.enumerated() where tracker.process(img, index: i) != nil { found += 1 }
            wall.append(Date().timeIntervalSince(t0))
            cpu.append(cpuSeconds(RUSAGE_SELF) - c0)
            last = tracker.statistics
            print(String(format: "run %d: %d frames, %d with a face, %.1f fps wall, %.1f fps per CPU-second (%d full detections, %d region checks)",
                         run + 1, images.count, found, Double(images.count) / wall.last!, Double(images.count) / cpu.last!,
                         last.fullDetections, last.regionChecks))
        }
        // Single operations, for scale.
        let tracker = try FaceTracker(paths: paths)
        let gray = first.luma()
        let detector = try HaarDetector(contentsOf: paths.frontalCascade)
        let t1 = Date()
        let boxes = detector.detect(gray)
        let detectMs = Date().timeIntervalSince(t1) * 1000
        let intensity = first.meanIntensity()
        let box = boxes.first.map { DlibRect($0) } ?? DlibRect(left: first.width / 4, top: first.height / 4, right: 3 * first.width / 4, bottom: 3 * first.height / 4)
        let t2 = Date()
        for _ in 0..<50 { _ = tracker.predictor.predict(intensity, box: box) }
        let predictMs = Date().timeIntervalSince(t2) * 1000 / 50
        print(String(format: "%@ %dx%d: tracking %.1f fps wall (median), %.1f fps per CPU-second; full-frame detection %.1f ms, landmarks %.2f ms",
                     path, first.width, first.height, Double(images.count) / median(wall), Double(images.count) / median(cpu),
                     detectMs, predictMs))
        print(String(format: "tracking: %.1f ms a frame (median wall; target ≤ 30 ms at 720p), of which verification %.2f ms, identity re-acquisition %.2f ms",
                     1000 * median(wall) / Double(images.count), 1000 * last.verificationSeconds / Double(images.count),
                     1000 * last.identitySeconds / Double(images.count)))
        do {
            let recognizer = try FaceRecognizer(contentsOf: paths.recognizer)
            var found: (FaceFrame, RGBImage)?
            for (i, img) in images.enumerated() {
                if let f = tracker.process(img, index: i) { found = (f, img); break }
            }
            guard let (f, img) = found else { print("identity descriptor: no face in the clip to describe"); return }
            _ = try recognizer.describe(img, landmarks: f.landmarks)
            var times: [Double] = []
            for _ in 0..<20 {
                let t = Date()
                _ = try recognizer.describe(img, landmarks: f.landmarks)
                times.append(Date().timeIntervalSince(t))
            }
            print(String(format: "identity descriptor: %.1f ms per described face (median of 20; target ≤ 40 ms)", 1000 * median(times)))
        } catch {
            print("identity descriptor: not measured (\(error))")
        }
    }
}
