import ArgumentParser
import Foundation
import Models
import Pipeline
import Tensors
import Video

/// `avatarize bench track`: a long latent track in the full-size shape written, smoothed and read back
/// through the streaming path, to show that memory does not grow with the clip's length.
struct BenchTrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Write, smooth and read back a long full-size latent track; print rates and peak memory.",
        discussion: """
        Writes --frames frames of random 14 × 512 W+ codes (28 KB each) with LatentTrackWriter, then reads \
        them through the smoothing window the renderer uses. Peak memory should be the same for 1,000 \
        frames as for 100,000: the track lives on disk and only the window is held. The last line is \
        `frames=… write_ms_per_frame=… smooth_ms_per_frame=… peak_rss_mb=…`.
        """
    )

    @Option(help: "Frames in the track.") var frames = 10_000
    @Option(help: "Smoothing of the codes, as for `run --smoothing`.") var smoothing = "gaussian:1.5"
    @Option(help: "Folder for the temporary track (default: the system's temporary folder).") var folder: String?

    func run() throws {
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1") }
        guard let filter = TemporalFilter(spec: smoothing) else { throw ValidationError("--smoothing: not a filter: \(smoothing)") }
        let dir = URL(fileURLWithPath: folder ?? FileManager.default.temporaryDirectory.path)
        let url = dir.appendingPathComponent("avatarize-bench-\(getpid()).track")
        defer { try? FileManager.default.removeItem(at: url) }
        let source = TrackSource(path: "synthetic", fileSize: 0, contentHash: "", width: 1280, height: 720,
                                 frameRate: Rational(30, 1), timeBase: Rational(1, 15360))
        var rng = SplitMix64(seed: 7)
        let t0 = Clock.now()
        let writer = try LatentTrackWriter(url: url, source: source, model: "bench", numWs: 14, wDim: 512)
        var code = [Float](repeating: 0, count: 14 * 512)
        for i in 0..<frames {
            // A random walk: neighbouring frames are close, as a real clip's are.
            for k in code.indices { code[k] += 0.05 * rng.gaussian() }
            try writer.append(TrackFrame(code: code, camera: [Float](repeating: 0, count: 25), quad: [Float](repeating: 0, count: 8),
                                         pts: Int64(i * 512), faceFound: true))
        }
        let track = try writer.finish()
        let written = Clock.now() - t0
        let t1 = Clock.now()
        let reader = SmoothedTrackReader(track, smoothing: TrackSmoothing(codes: [filter]))
        var read = 0
        while try reader.next() != nil { read += 1 }
        let smoothed = Clock.now() - t1
        let bytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.doubleValue ?? 0
        print(String(format: "track: %d frames, %.0f MB on disk; write %.1f s (%.0f MB/s); smooth + read %.1f s", read, bytes / 1e6,
                     written, bytes / 1e6 / max(written, 1e-9), smoothed))
        print(String(format: "jitter (codes): %.4f → %.4f", reader.report.codeJitterBefore, reader.report.codeJitterAfter))
        let peak = Double(Clock.peakResidentBytes() ?? 0) / 1e6
        print(String(format: "frames=%d write_ms_per_frame=%.3f smooth_ms_per_frame=%.3f peak_rss_mb=%.0f",
                     read, written * 1000 / Double(max(read, 1)), smoothed * 1000 / Double(max(read, 1)), peak))
    }
}
