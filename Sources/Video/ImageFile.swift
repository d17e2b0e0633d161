import CFFmpeg
import Foundation

/// Still pictures through FFmpeg's own PNG encoder (no extra image library needed).
public enum ImageFile {
    /// Writes packed RGB24 as a PNG, atomically (temporary sibling, then rename).
    public static func writePNG(rgb: [UInt8], width: Int, height: Int, to url: URL) throws {
        try checkOutputPath(url, input: nil)
        let data = try pngData(rgb: rgb, width: width, height: height, name: url.path)
        let tmp = temporarySibling(of: url)
        do {
            try data.write(to: tmp)
            guard rename(tmp.path, url.path) == 0 else {
                throw MediaError.outputNotWritable(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch let e as MediaError {
            unlink(tmp.path); throw e
        } catch {
            unlink(tmp.path); throw MediaError.outputNotWritable(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Packed RGB24 as PNG bytes in memory (pictures inlined in HTML reports and served by the dashboard).
    /// `name` only labels errors.
    public static func pngData(rgb: [UInt8], width: Int, height: Int, name: String = "picture") throws -> Data {
        _ = FFmpegLog.configured
        let url = URL(fileURLWithPath: name)
        guard rgb.count == width * height * 3, width > 0, height > 0 else {
            throw MediaError.invalidArgument("\(url.path): picture buffer does not match \(width)x\(height)")
        }
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_PNG) else {
            throw MediaError.encoderUnavailable(reason: "this FFmpeg has no PNG encoder")
        }
        var ctx = avcodec_alloc_context3(codec)
        defer { avcodec_free_context(&ctx) }
        guard let c = ctx else { throw MediaError.encodeFailed(path: url.path, reason: "out of memory") }
        c.pointee.width = Int32(width); c.pointee.height = Int32(height)
        c.pointee.pix_fmt = AV_PIX_FMT_RGB24
        c.pointee.time_base = AVRational(num: 1, den: 1)
        guard avcodec_open2(c, codec, nil) >= 0 else { throw MediaError.encodeFailed(path: url.path, reason: "PNG encoder would not open") }
        var frame = av_frame_alloc()
        defer { av_frame_free(&frame) }
        guard let fr = frame else { throw MediaError.encodeFailed(path: url.path, reason: "out of memory") }
        fr.pointee.format = AV_PIX_FMT_RGB24.rawValue
        fr.pointee.width = Int32(width); fr.pointee.height = Int32(height)
        guard av_frame_get_buffer(fr, 0) >= 0 else { throw MediaError.encodeFailed(path: url.path, reason: "out of memory") }
        let stride = Int(fr.pointee.linesize.0)
        rgb.withUnsafeBufferPointer { src in
            for y in 0..<height {
                memcpy(fr.pointee.data.0! + y * stride, src.baseAddress! + y * width * 3, width * 3)
            }
        }
        var pkt = av_packet_alloc()
        defer { av_packet_free(&pkt) }
        guard avcodec_send_frame(c, fr) >= 0, avcodec_receive_packet(c, pkt) >= 0, let p = pkt else {
            throw MediaError.encodeFailed(path: url.path, reason: "PNG encoding failed")
        }
        return Data(bytes: p.pointee.data, count: Int(p.pointee.size))
    }
}
