import CFFmpeg
import Foundation

/// A time base or frame rate as FFmpeg keeps it: an exact fraction.
public struct Rational: Sendable, Equatable, Codable, CustomStringConvertible {
    public var num: Int32
    public var den: Int32
    public init(_ num: Int32, _ den: Int32) { self.num = num; self.den = den }
    init(_ r: AVRational) { self.num = r.num; self.den = r.den }
    var av: AVRational { AVRational(num: num, den: den) }
    public var value: Double { den == 0 ? 0 : Double(num) / Double(den) }
    public var isValid: Bool { num > 0 && den > 0 }
    public var description: String { "\(num)/\(den)" }
}

/// FFmpeg's message for an error code (av_strerror), e.g. "Invalid data found when processing input".
func ffmpegMessage(_ code: Int32) -> String {
    var buf = [CChar](repeating: 0, count: 256)
    avz_err2str(code, &buf, buf.count)
    return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

enum FFmpegLog {
    /// FFmpeg prints its own diagnostics to stderr; avatarize reports problems itself, so keep FFmpeg to errors
    /// unless the user asks for more (AVATARIZE_FFMPEG_LOG=info|warning|debug).
    static let configured: Void = {
        let level: Int32
        switch ProcessInfo.processInfo.environment["AVATARIZE_FFMPEG_LOG"] {
        case "debug": level = AV_LOG_DEBUG
        case "info": level = AV_LOG_INFO
        case "warning": level = AV_LOG_WARNING
        default: level = AV_LOG_QUIET
        }
        av_log_set_level(level)
    }()
}

/// Converts seconds to a stream timestamp, rounding to nearest.
func timestamp(seconds: Double, in tb: Rational) -> Int64 {
    Int64((seconds * Double(tb.den) / Double(tb.num)).rounded())
}

/// Temporary sibling path used for atomic writes: same folder (so rename is atomic), same extension (so
/// FFmpeg's muxer guess and other tools still see the right type), hidden, unique per process.
public func temporarySibling(of url: URL) -> URL {
    let dir = url.deletingLastPathComponent()
    let ext = url.pathExtension
    let base = url.deletingPathExtension().lastPathComponent
    let unique = "\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
    let name = ".\(base).partial-\(unique)" + (ext.isEmpty ? "" : ".\(ext)")
    return dir.appendingPathComponent(name)
}

/// True when two paths name the same file on disk (following links), so an output never clobbers its input.
public func sameFile(_ a: URL, _ b: URL) -> Bool {
    var sa = stat(), sb = stat()
    guard stat(a.path, &sa) == 0, stat(b.path, &sb) == 0 else { return false }
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
}

/// Checks that an output can be created at `url` and does not name `input`; throws the user-facing error if not.
public func checkOutputPath(_ url: URL, input: URL?) throws {
    if let input, sameFile(url, input) { throw MediaError.outputIsInput(path: url.path) }
    let dir = url.deletingLastPathComponent()
    var isDir: ObjCBool = false
    if !FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir) {
        // `-o out/avatar.mp4` in a fresh checkout: make the folder, as the final rename's parent, unless
        // something on the way is a file.
        var ancestor = dir.deletingLastPathComponent()
        while ancestor.path != "/", !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDir) {
            ancestor = ancestor.deletingLastPathComponent()
        }
        if ancestor.path != "/", !isDir.boolValue {
            throw MediaError.outputNotWritable(path: url.path, reason: "\(ancestor.path) is not a folder")
        }
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw MediaError.outputNotWritable(path: url.path, reason: "cannot create folder \(dir.path) (\(error.localizedDescription))")
        }
        isDir = true
    }
    guard isDir.boolValue else {
        throw MediaError.outputNotWritable(path: url.path, reason: "\(dir.path) is not a folder")
    }
    guard access(dir.path, W_OK) == 0 else {
        throw MediaError.outputNotWritable(path: url.path, reason: "folder \(dir.path) is not writable")
    }
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
        throw MediaError.outputNotWritable(path: url.path, reason: "a folder has that name")
    }
}
