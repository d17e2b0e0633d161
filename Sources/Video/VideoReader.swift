import CFFmpeg
import Foundation
import Logging

/// Streams the frames of a file's main video stream as upright RGB pictures, one at a time.
///
/// The loop has the shape of FFmpeg's doc/examples: read packet → send → receive until EAGAIN; EOF flushes
/// the decoder. Only the frame being converted is held, so memory does not grow with the clip.
/// Timestamps are rebased so the first frame of the selected range is at 0 (what an output file wants).
public final class VideoReader {
    public struct Options: Sendable {
        /// Seconds from the start of the stream to begin at (frames before are decoded and dropped).
        public var start: Double = 0
        /// Seconds to read from `start`; nil reads to the end.
        public var duration: Double? = nil
        /// Output size after rotation; nil keeps the source size.
        public var size: (width: Int, height: Int)? = nil
        public init(start: Double = 0, duration: Double? = nil, size: (width: Int, height: Int)? = nil) {
            self.start = start; self.duration = duration; self.size = size
        }
    }

    public let url: URL
    /// Upright output size.
    public let width: Int
    public let height: Int
    /// Clockwise degrees applied to make the picture upright (from the display matrix).
    public let rotation: Int
    public let timeBase: Rational
    /// Average frame rate when the container knows it, else the stream's base rate.
    public let frameRate: Rational
    /// Duration of the selected range in seconds, when known.
    public let duration: Double?
    /// Frames expected in the selected range (from the container's count or duration × rate); an estimate.
    public let expectedFrameCount: Int?

    /// The colour description of the stream's header (frames may refine it; each is converted by its own).
    public let color: ColorDescription

    /// Frames that could not be decoded (corrupt packets, frames the decoder flagged corrupt).
    public private(set) var framesLost = 0
    public private(set) var framesDelivered = 0

    private let input: MediaInput
    private let streamIndex: Int
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var sws: OpaquePointer?
    /// The context and colours `sws` was last set up for (swscale's cached context is replaced when the
    /// sizes or format change, and a new one starts at BT.601 limited).
    private var swsColor: (context: OpaquePointer, color: ColorDescription)?
    /// swscale's padded output picture (see avz_scale_frame_to_packed), for the size it was made for.
    private var staging: (buffer: UnsafeMutablePointer<UInt8>, width: Int, height: Int)?
    private let originPts: Int64          // stream timestamp that maps to 0
    private let endPts: Int64?            // first timestamp past the range
    private var draining = false
    private var finished = false
    private var packetsSent = 0
    private var framesReceived = 0
    private var readError: Int32? = nil
    private let logger: Logger

    public init(url: URL, options: Options = Options(), logger: Logger = Logger(label: "avatarize.video")) throws {
        self.url = url
        self.logger = logger
        input = try MediaInput(url: url)
        guard let vi = input.bestStream(AVMEDIA_TYPE_VIDEO) else { throw MediaError.noVideoStream(path: url.path) }
        streamIndex = vi
        let st = input.stream(vi)
        let par = st.pointee.codecpar
        guard let dec = avcodec_find_decoder(par!.pointee.codec_id) else {
            throw MediaError.unsupportedCodec(path: url.path, codec: String(cString: avcodec_get_name(par!.pointee.codec_id)))
        }
        codec = avcodec_alloc_context3(dec)
        guard let codec else { throw MediaError.corrupt(path: url.path, reason: "out of memory") }
        avcodec_parameters_to_context(codec, par)
        codec.pointee.thread_count = 0   // let FFmpeg pick (one per core)
        codec.pointee.pkt_timebase = st.pointee.time_base
        let rc = avcodec_open2(codec, dec, nil)
        guard rc >= 0 else { throw MediaError.corrupt(path: url.path, reason: "cannot open the video decoder: \(ffmpegMessage(rc))") }
        packet = av_packet_alloc()
        frame = av_frame_alloc()

        color = ColorDescription(parameters: par!)
        if color.isHighDynamicRange { throw MediaError.highDynamicRange(path: url.path, color: color) }
        timeBase = Rational(st.pointee.time_base)
        let avg = Rational(st.pointee.avg_frame_rate)
        let base = Rational(st.pointee.r_frame_rate)
        frameRate = avg.isValid ? avg : (base.isValid ? base : Rational(25, 1))
        rotation = uprightRotation(of: st)

        let srcW = Int(par!.pointee.width), srcH = Int(par!.pointee.height)
        guard srcW > 0, srcH > 0 else { throw MediaError.corrupt(path: url.path, reason: "the video stream has no picture size") }
        let upright = rotation % 180 == 0 ? (srcW, srcH) : (srcH, srcW)
        if let s = options.size {
            guard s.width > 0, s.height > 0, s.width <= 16384, s.height <= 16384 else {
                throw MediaError.invalidArgument("output size \(s.width)x\(s.height) is not a usable picture size")
            }
            (width, height) = (s.width, s.height)
        } else {
            (width, height) = upright
        }

        let streamStart = st.pointee.start_time != avz_nopts_value() ? st.pointee.start_time : 0
        let streamDuration: Double? = st.pointee.duration != avz_nopts_value() && st.pointee.duration > 0
            ? Double(st.pointee.duration) * timeBase.value
            : (input.format.pointee.duration > 0 ? Double(input.format.pointee.duration) / Double(avz_time_base()) : nil)
        guard options.start >= 0 else { throw MediaError.invalidRange(path: url.path, reason: "--start must not be negative") }
        if let d = options.duration, d <= 0 { throw MediaError.invalidRange(path: url.path, reason: "--duration must be positive") }
        if let total = streamDuration, options.start >= total {
            throw MediaError.invalidRange(path: url.path, reason: String(format: "--start %.3f s is past the end of the video (%.3f s)", options.start, total))
        }
        let tb = timeBase
        let origin = streamStart + timestamp(seconds: options.start, in: tb)
        originPts = origin
        endPts = options.duration.map { origin + timestamp(seconds: $0, in: tb) }
        let remaining = streamDuration.map { $0 - options.start }
        duration = [remaining, options.duration].compactMap { $0 }.min()
        if options.start == 0, options.duration == nil, st.pointee.nb_frames > 0 {
            expectedFrameCount = Int(st.pointee.nb_frames)
        } else if let d = duration {
            expectedFrameCount = Int((d * frameRate.value).rounded())
        } else {
            expectedFrameCount = nil
        }

        if options.start > 0 {
            // Seek to the key frame at or before the start; frames before it are decoded and dropped.
            _ = av_seek_frame(input.format, Int32(streamIndex), originPts, AVSEEK_FLAG_BACKWARD)
            avcodec_flush_buffers(codec)
        }
    }

    deinit {
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&codec)
        sws_freeContext(sws)
        if let staging { av_free(staging.buffer) }
    }

    /// The next upright RGB frame of the range, or nil at its end.
    /// Throws when the file turns out truncated or undecodable; a corrupt stretch in the middle is skipped
    /// and counted in `framesLost`.
    public func nextFrame() throws -> VideoFrame? {
        guard !finished, let codec, let frame, let packet else { return nil }
        while true {
            let r = avcodec_receive_frame(codec, frame)
            if r >= 0 {
                framesReceived += 1
                defer { av_frame_unref(frame) }
                if frame.pointee.flags & avz_frame_flag_corrupt() != 0 {
                    framesLost += 1
                    continue
                }
                var pts = frame.pointee.best_effort_timestamp
                if pts == avz_nopts_value() { pts = frame.pointee.pts }
                if pts == avz_nopts_value() {
                    // No timestamp at all: place it one frame after the last delivered.
                    pts = originPts + timestamp(seconds: Double(framesDelivered) / frameRate.value, in: timeBase)
                }
                if pts < originPts { continue }
                if let endPts, pts >= endPts { return finish() }
                let out = try convert(frame, pts: pts - originPts)
                framesDelivered += 1
                return out
            }
            if r == avz_error_eof() { return try finishAtEnd() }
            if r != avz_error_eagain() {
                // A decode error surfaced at receive: count the frame as lost and keep going.
                framesLost += 1
                continue
            }
            if draining { return try finishAtEnd() }
            // The decoder wants input.
            let rr = av_read_frame(input.format, packet)
            if rr < 0 {
                if rr != avz_error_eof() { readError = rr }
                draining = true
                avcodec_send_packet(codec, nil)
                continue
            }
            defer { av_packet_unref(packet) }
            guard Int(packet.pointee.stream_index) == streamIndex else { continue }
            if let endPts, packet.pointee.dts != avz_nopts_value(), packet.pointee.dts >= endPts {
                // Past the range: a packet is decoded no later than it is shown (dts ≤ pts), so every frame of
                // the range was already sent; flushing the decoder delivers the reordered ones.
                draining = true
                avcodec_send_packet(codec, nil)
                continue
            }
            let s = avcodec_send_packet(codec, packet)
            if s >= 0 { packetsSent += 1 } else if s != avz_error_eagain() { framesLost += 1 }
        }
    }

    private func finish() -> VideoFrame? {
        finished = true
        return nil
    }

    private func finishAtEnd() throws -> VideoFrame? {
        finished = true
        // Packets the decoder accepted but never turned into frames were lost too (broken references).
        framesLost += max(0, packetsSent - framesReceived)
        if framesDelivered == 0 {
            if let readError { throw MediaError.corrupt(path: url.path, reason: ffmpegMessage(readError)) }
            throw MediaError.noDecodableFrames(path: url.path)
        }
        if let readError, endPts == nil {
            // The container promised more than the file holds.
            throw MediaError.corrupt(path: url.path, reason: "reading stopped after \(framesDelivered) frames: \(ffmpegMessage(readError))")
        }
        if endPts == nil, let expected = expectedFrameCount, framesDelivered + framesLost < expected - max(2, expected / 50) {
            throw MediaError.corrupt(path: url.path, reason: "the file ends after \(framesDelivered) of \(expected) frames")
        }
        return nil
    }

    private func convert(_ f: UnsafeMutablePointer<AVFrame>, pts: Int64) throws -> VideoFrame {
        let fw = Int(f.pointee.width), fh = Int(f.pointee.height)
        // Scale in the stored orientation, then rotate: the scaled size is the output size turned back.
        let (sw, sh) = rotation % 180 == 0 ? (width, height) : (height, width)
        // Same size: the plain (SIMD) conversion path; resizing: bicubic, as FFmpeg's own default scaler.
        let flags = (sw == fw && sh == fh) ? SWS_BILINEAR : SWS_BICUBIC
        sws = sws_getCachedContext(sws, Int32(fw), Int32(fh), AVPixelFormat(rawValue: f.pointee.format),
                                   Int32(sw), Int32(sh), AV_PIX_FMT_RGB24, flags, nil, nil, nil)
        guard let sws else { throw MediaError.corrupt(path: url.path, reason: "cannot convert its pixel format") }
        // Each frame is converted by the matrix and range it is tagged with (a stream may change them).
        let frameColor = ColorDescription(frame: f)
        if frameColor.isHighDynamicRange { throw MediaError.highDynamicRange(path: url.path, color: frameColor) }
        let isRGB = (av_pix_fmt_desc_get(AVPixelFormat(rawValue: f.pointee.format))?.pointee.flags ?? 0) & UInt64(AV_PIX_FMT_FLAG_RGB) != 0
        if !isRGB, swsColor?.context != sws || swsColor?.color != frameColor {
            guard ColorDescription.configure(sws, yuv: frameColor, toRGB: true) else {
                throw MediaError.corrupt(path: url.path, reason: "cannot convert its colours (\(frameColor))")
            }
            swsColor = (sws, frameColor)
        }
        // Every byte is written by swscale, so skip zero-filling a multi-megabyte buffer per frame; a failed
        // conversion throws before the array exists, so its unwritten bytes are never seen.
        if staging?.width != sw || staging?.height != sh {
            if let staging { av_free(staging.buffer) }
            staging = nil
            guard let b = avz_staging_alloc(Int32(sw), Int32(sh)) else {
                throw MediaError.corrupt(path: url.path, reason: "cannot hold a \(sw)x\(sh) picture")
            }
            staging = (b, sw, sh)
        }
        let stagingBuffer = staging!.buffer
        var rgb = try [UInt8](unsafeUninitializedCapacity: sw * sh * 3) { buf, count in
            let rows = avz_scale_frame_to_packed(sws, f, stagingBuffer, buf.baseAddress, Int32(sw), Int32(sh))
            guard rows == Int32(sh) else {
                count = 0
                throw MediaError.corrupt(path: url.path,
                    reason: "frame \(framesDelivered) could not be converted to RGB (\(rows < 0 ? ffmpegMessage(rows) : "\(rows) of \(sh) rows"))")
            }
            count = sw * sh * 3
        }
        if rotation != 0 { rgb = rotateRGB(rgb, width: sw, height: sh, clockwise: rotation) }
        return VideoFrame(width: width, height: height, rgb: rgb, pts: pts, timeBase: timeBase, index: framesDelivered)
    }
}

/// Rotates a packed RGB picture by 90, 180 or 270 degrees clockwise.
func rotateRGB(_ src: [UInt8], width w: Int, height h: Int, clockwise deg: Int) -> [UInt8] {
    var dst = [UInt8](repeating: 0, count: src.count)
    src.withUnsafeBufferPointer { s in
        dst.withUnsafeMutableBufferPointer { d in
            for y in 0..<h {
                for x in 0..<w {
                    let (dx, dy, dw): (Int, Int, Int)
                    switch deg {
                    case 90: (dx, dy, dw) = (h - 1 - y, x, h)
                    case 180: (dx, dy, dw) = (w - 1 - x, h - 1 - y, w)
                    default: (dx, dy, dw) = (y, w - 1 - x, h)
                    }
                    let si = (y * w + x) * 3, di = (dy * dw + dx) * 3
                    d[di] = s[si]; d[di + 1] = s[si + 1]; d[di + 2] = s[si + 2]
                }
            }
        }
    }
    return dst
}
