import ArgumentParser
import Foundation
import Video

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show what a media file holds: container, duration, streams, size, frame rate, rotation, audio.",
        discussion: "Example: avatarize probe samples/talking-head.mp4 --json"
    )

    @Argument(help: "The media file to inspect.", completion: .file())
    var file: String

    @Flag(help: "Print machine-readable JSON instead of text.")
    var json = false

    func run() throws {
        let info = try MediaInfo.probe(URL(fileURLWithPath: file))
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(info), as: UTF8.self))
            return
        }
        print("\(info.path)")
        print("  container: \(info.container)" + (info.duration.map { String(format: ", duration %.3f s", $0) } ?? ""))
        for s in info.streams {
            var line = "  stream \(s.index): \(s.kind) \(s.codec)"
            if let w = s.width, let h = s.height { line += " \(w)x\(h)" }
            if let r = s.frameRate { line += String(format: " %.3f fps", r) }
            if let rot = s.rotation, rot != 0 { line += " rotated \(rot)°" }
            if let n = s.frameCount { line += " \(n) frames" }
            if let sr = s.sampleRate { line += " \(sr) Hz" }
            if let ch = s.channels { line += " \(ch) ch" }
            if let d = s.duration { line += String(format: " %.3f s", d) }
            print(line)
        }
        if info.audio == nil { print("  no audio") }
    }
}
