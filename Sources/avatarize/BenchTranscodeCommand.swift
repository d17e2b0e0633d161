import ArgumentParser
import Foundation
import Pipeline

/// `avatarize bench transcode`: the identity pipeline against the `ffmpeg` command doing the same job on the
/// same file, alternated run by run so both see the same machine state; medians and their ratio.
struct BenchTranscodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcode",
        abstract: "Time decode + encode against the ffmpeg command on the same file (medians, ratio).",
        discussion: """
        Without --input, a 10 s 1280x720 test pattern with a tone is generated with ffmpeg first. \
        Both sides encode H.264 with the same preset and CRF and copy the audio; avatarize also converts \
        every frame to RGB and back, which is its framework overhead.
        """
    )

    @Option(help: "Clip to transcode (default: a generated 1280x720 test pattern).") var input: String?
    @Option(help: "Runs of each side.") var runs = 5
    @Option(help: "x264 preset for both sides.") var preset = "veryfast"
    @Option(help: "x264 CRF for both sides.") var crf = 20

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source: URL
        if let input {
            source = URL(fileURLWithPath: input)
        } else {
            source = dir.appendingPathComponent("pattern.mp4")
            try runTool(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=10",
                         "-f", "lavfi", "-i", "sine=frequency=300:duration=10", "-c:v", "libx264", "-preset", "veryfast",
                         "-pix_fmt", "yuv420p", "-c:a", "aac", source.path])
        }
        let ffOut = dir.appendingPathComponent("ffmpeg.mp4"), ourOut = dir.appendingPathComponent("avatarize.mp4")
        var ffTimes: [Double] = [], ourTimes: [Double] = [], ffCPU: [Double] = [], ourCPU: [Double] = []
        var frames = 0
        for i in 0..<runs {
            let c0 = cpuSeconds(RUSAGE_CHILDREN)
            let t0 = Date()
            try runTool(["ffmpeg", "-v", "error", "-y", "-i", source.path, "-c:v", "libx264", "-preset", preset,
                         "-crf", "\(crf)", "-pix_fmt", "yuv420p", "-c:a", "copy", "-movflags", "+faststart", ffOut.path])
            ffTimes.append(Date().timeIntervalSince(t0))
            ffCPU.append(cpuSeconds(RUSAGE_CHILDREN) - c0)
            try? FileManager.default.removeItem(at: ourOut)
            var req = TranscodeRequest(input: source, output: ourOut)
            req.preset = preset
            req.crf = crf
            let c1 = cpuSeconds(RUSAGE_SELF)
            let t1 = Date()
            let report = try transcode(req, logger: makeLogger())
            ourTimes.append(Date().timeIntervalSince(t1))
            ourCPU.append(cpuSeconds(RUSAGE_SELF) - c1)
            frames = report.frames
            print(String(format: "run %d: ffmpeg %.3f s (cpu %.3f s), avatarize %.3f s (cpu %.3f s)",
                         i + 1, ffTimes.last!, ffCPU.last!, ourTimes.last!, ourCPU.last!))
        }
        let ff = median(ffTimes), ours = median(ourTimes)
        // Wall time is what a user waits; CPU time is steadier when the machine is shared.
        print(String(format: "frames=%d ffmpeg_ms=%.1f avatarize_ms=%.1f ffmpeg_fps=%.1f avatarize_fps=%.1f ratio=%.3f cpu_ratio=%.3f",
                     frames, ff * 1000, ours * 1000, Double(frames) / ff, Double(frames) / ours, ours / ff,
                     median(ourCPU) / median(ffCPU)))
    }
}

/// User + system CPU seconds of this process or of its finished children.
func cpuSeconds(_ who: __rusage_who) -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(who.rawValue), &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Runs a command (searched on PATH) and fails with its output if it fails.
func runTool(_ args: [String]) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    let pipe = Pipe()
    p.standardError = pipe
    p.standardOutput = pipe
    try p.run()
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw ValidationError("\(args[0]) failed: \(String(decoding: out, as: UTF8.self))")
    }
}
