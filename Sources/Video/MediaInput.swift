import CFFmpeg
import Foundation

/// An opened input container (one AVFormatContext, freed in deinit). Shared by the probe, the video reader
/// and the audio carrier so that every entry point reports a missing, non-media or truncated file alike.
final class MediaInput {
    let url: URL
    var ctx: UnsafeMutablePointer<AVFormatContext>?

    init(url: URL) throws {
        _ = FFmpegLog.configured
        self.url = url
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw MediaError.fileNotFound(path: url.path)
        }
        if isDir.boolValue { throw MediaError.notMedia(path: url.path, reason: "it is a folder") }
        guard access(url.path, R_OK) == 0 else {
            throw MediaError.notMedia(path: url.path, reason: "permission denied")
        }
        var c: UnsafeMutablePointer<AVFormatContext>? = nil
        let rc = avformat_open_input(&c, url.path, nil, nil)
        guard rc >= 0, let c else {
            throw MediaError.notMedia(path: url.path, reason: ffmpegMessage(rc))
        }
        ctx = c
        let info = avformat_find_stream_info(c, nil)
        if info < 0 {
            throw MediaError.corrupt(path: url.path, reason: ffmpegMessage(info))
        }
    }

    deinit { avformat_close_input(&ctx) }

    var format: UnsafeMutablePointer<AVFormatContext> { ctx! }

    func stream(_ i: Int) -> UnsafeMutablePointer<AVStream> { format.pointee.streams[i]! }

    var streamCount: Int { Int(format.pointee.nb_streams) }

    /// The stream FFmpeg itself would pick for a media type, or nil.
    func bestStream(_ type: AVMediaType) -> Int? {
        let i = av_find_best_stream(format, type, -1, -1, nil, 0)
        return i >= 0 ? Int(i) : nil
    }
}

/// Rotation in degrees clockwise (0, 90, 180, 270) that turns the stored picture upright, from the
/// stream's display matrix (what phones write for portrait clips). FFmpeg's own `-autorotate` uses the
/// same matrix; av_display_rotation_get reports the counter-clockwise angle, hence the sign flip.
func uprightRotation(of stream: UnsafeMutablePointer<AVStream>) -> Int {
    guard let data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nil) else { return 0 }
    let theta = -data.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
    guard theta.isFinite else { return 0 }
    var deg = Int((theta / 90).rounded()) * 90 % 360
    if deg < 0 { deg += 360 }
    return deg
}
