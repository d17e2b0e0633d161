import CFFmpeg
import Foundation

/// Carries a source's audio into an output file alongside newly encoded video: packets are copied when the
/// output container accepts the codec (no quality loss), otherwise decoded and re-encoded to AAC. Only the
/// selected time range is carried, and its timestamps are shifted by the same amount as the video's
/// (`VideoReader` puts the video stream's start, plus the range's, at 0), so audio that starts later than
/// the picture (common in phone and screen recordings) keeps its delay and the two stay in sync. Packets
/// are pulled lazily up to the video's current time, so memory stays small.
final class AudioCarrier {
    enum Mode { case copy, reencode }

    let mode: Mode
    private let input: MediaInput
    private let inIndex: Int
    private let inTimeBase: Rational
    private let outStream: UnsafeMutablePointer<AVStream>
    private let startPts: Int64
    private let endPts: Int64?
    private var packet: UnsafeMutablePointer<AVPacket>? = av_packet_alloc()
    private var exhausted = false
    private var lastDts: Int64 = Int64.min
    // re-encode path
    private var decoder: UnsafeMutablePointer<AVCodecContext>?
    private var encoder: UnsafeMutablePointer<AVCodecContext>?
    private var swr: OpaquePointer?
    private var fifo: OpaquePointer?
    private var decoded: UnsafeMutablePointer<AVFrame>? = av_frame_alloc()
    /// Output samples so far, counted from output time 0: the first decoded frame sets where they start.
    private var samplesWritten: Int64 = 0
    private var placedFirstSample = false
    private let outputPath: String

    /// Returns nil when the source has no audio stream.
    init?(source: URL, start: Double, duration: Double?, output: UnsafeMutablePointer<AVFormatContext>, outputPath: String) throws {
        let input = try MediaInput(url: source)
        guard let ai = input.bestStream(AVMEDIA_TYPE_AUDIO) else { return nil }
        self.input = input
        self.outputPath = outputPath
        inIndex = ai
        let st = input.stream(ai)
        let tb = Rational(st.pointee.time_base)
        inTimeBase = tb
        // Output time 0 is the video's origin, in this stream's time base; a file without video keeps
        // its audio stream's own start.
        let origin = Self.videoStart(of: input).map { timestamp(seconds: $0, in: tb) }
            ?? (st.pointee.start_time != avz_nopts_value() ? st.pointee.start_time : 0)
        startPts = origin + timestamp(seconds: start, in: tb)
        endPts = duration.map { origin + timestamp(seconds: start + $0, in: tb) }
        guard let os = avformat_new_stream(output, nil) else {
            throw MediaError.encodeFailed(path: outputPath, reason: "cannot add an audio stream")
        }
        outStream = os
        let par = st.pointee.codecpar!
        if avformat_query_codec(output.pointee.oformat, par.pointee.codec_id, FF_COMPLIANCE_NORMAL) == 1 {
            mode = .copy
            avcodec_parameters_copy(os.pointee.codecpar, par)
            os.pointee.codecpar.pointee.codec_tag = 0
            os.pointee.time_base = st.pointee.time_base
        } else {
            mode = .reencode
            try openReencoder(par: par, stream: st, output: output)
        }
        if start > 0 {
            _ = av_seek_frame(input.format, Int32(ai), startPts, AVSEEK_FLAG_BACKWARD)
        }
    }

    /// The start of the file's main video stream in seconds, as `VideoReader` takes it (0 when unknown).
    static func videoStart(of input: MediaInput) -> Double? {
        guard let vi = input.bestStream(AVMEDIA_TYPE_VIDEO) else { return nil }
        let st = input.stream(vi)
        guard st.pointee.start_time != avz_nopts_value() else { return 0 }
        return Double(st.pointee.start_time) * Rational(st.pointee.time_base).value
    }

    deinit {
        av_packet_free(&packet)
        av_frame_free(&decoded)
        avcodec_free_context(&decoder)
        avcodec_free_context(&encoder)
        swr_free(&swr)
        if let fifo { av_audio_fifo_free(fifo) }
    }

    private func openReencoder(par: UnsafeMutablePointer<AVCodecParameters>, stream: UnsafeMutablePointer<AVStream>,
                               output: UnsafeMutablePointer<AVFormatContext>) throws {
        guard let dec = avcodec_find_decoder(par.pointee.codec_id) else {
            throw MediaError.unsupportedCodec(path: input.url.path, codec: String(cString: avcodec_get_name(par.pointee.codec_id)))
        }
        decoder = avcodec_alloc_context3(dec)
        avcodec_parameters_to_context(decoder, par)
        decoder!.pointee.pkt_timebase = stream.pointee.time_base
        guard avcodec_open2(decoder, dec, nil) >= 0 else {
            throw MediaError.corrupt(path: input.url.path, reason: "cannot open its audio decoder")
        }
        guard let enc = avcodec_find_encoder(AV_CODEC_ID_AAC) else {
            throw MediaError.encoderUnavailable(reason: "this FFmpeg build has no AAC encoder for the audio")
        }
        encoder = avcodec_alloc_context3(enc)
        let e = encoder!
        e.pointee.sample_rate = decoder!.pointee.sample_rate > 0 ? decoder!.pointee.sample_rate : 48000
        var layout = AVChannelLayout()
        av_channel_layout_default(&layout, min(max(decoder!.pointee.ch_layout.nb_channels, 1), 2))
        av_channel_layout_copy(&e.pointee.ch_layout, &layout)
        av_channel_layout_uninit(&layout)
        e.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        e.pointee.bit_rate = 160_000
        e.pointee.time_base = AVRational(num: 1, den: e.pointee.sample_rate)
        if output.pointee.oformat.pointee.flags & avz_fmt_globalheader() != 0 {
            e.pointee.flags |= avz_codec_flag_global_header()
        }
        guard avcodec_open2(e, enc, nil) >= 0 else {
            throw MediaError.encoderUnavailable(reason: "the AAC encoder would not open")
        }
        avcodec_parameters_from_context(outStream.pointee.codecpar, e)
        outStream.pointee.time_base = e.pointee.time_base
        var s: OpaquePointer? = nil
        var inLayout = decoder!.pointee.ch_layout
        if inLayout.nb_channels == 0 { av_channel_layout_default(&inLayout, 1) }
        swr_alloc_set_opts2(&s, &e.pointee.ch_layout, e.pointee.sample_fmt, e.pointee.sample_rate,
                            &inLayout, decoder!.pointee.sample_fmt, decoder!.pointee.sample_rate, 0, nil)
        guard let s, swr_init(s) >= 0 else { throw MediaError.encodeFailed(path: outputPath, reason: "cannot set up audio resampling") }
        swr = s
        fifo = av_audio_fifo_alloc(e.pointee.sample_fmt, e.pointee.ch_layout.nb_channels, 4096)
    }

    /// Writes audio up to `seconds` (output time) into `output`; `.infinity` drains it all and flushes.
    func pump(upTo seconds: Double, output: UnsafeMutablePointer<AVFormatContext>) throws {
        guard let packet else { return }
        while !exhausted {
            let rr = av_read_frame(input.format, packet)
            if rr < 0 { exhausted = true; break }
            defer { av_packet_unref(packet) }
            guard Int(packet.pointee.stream_index) == inIndex else { continue }
            let pts = packet.pointee.pts != avz_nopts_value() ? packet.pointee.pts : packet.pointee.dts
            if pts == avz_nopts_value() { continue }
            if pts < startPts { continue }
            if let endPts, pts >= endPts { exhausted = true; break }
            let t = Double(pts - startPts) * inTimeBase.value
            switch mode {
            case .copy: try writeCopied(packet, output: output)
            case .reencode: try decodeAndEncode(packet, output: output)
            }
            if t > seconds { break }
        }
        if exhausted && seconds == .infinity, mode == .reencode {
            try decodeAndEncode(nil, output: output)
        }
    }

    private func writeCopied(_ p: UnsafeMutablePointer<AVPacket>, output: UnsafeMutablePointer<AVFormatContext>) throws {
        if p.pointee.pts != avz_nopts_value() { p.pointee.pts -= startPts }
        if p.pointee.dts != avz_nopts_value() { p.pointee.dts -= startPts }
        if p.pointee.dts != avz_nopts_value() {
            if p.pointee.dts <= lastDts { return }  // a duplicate after seeking back; drop it
            lastDts = p.pointee.dts
        }
        av_packet_rescale_ts(p, inTimeBase.av, outStream.pointee.time_base)
        p.pointee.stream_index = outStream.pointee.index
        p.pointee.pos = -1
        let rc = av_interleaved_write_frame(output, p)
        if rc < 0 { throw MediaError.encodeFailed(path: outputPath, reason: "writing audio: \(ffmpegMessage(rc))") }
    }

    private func decodeAndEncode(_ p: UnsafeMutablePointer<AVPacket>?, output: UnsafeMutablePointer<AVFormatContext>) throws {
        guard let decoder, let encoder, let swr, let fifo, let decoded else { return }
        _ = avcodec_send_packet(decoder, p)
        while avcodec_receive_frame(decoder, decoded) >= 0 {
            if !placedFirstSample {
                // Re-encoded audio keeps its delay too: the first sample goes where it was relative to the video.
                placedFirstSample = true
                let pts = decoded.pointee.best_effort_timestamp
                if pts != avz_nopts_value(), pts > startPts {
                    samplesWritten = Int64((Double(pts - startPts) * inTimeBase.value * Double(encoder.pointee.sample_rate)).rounded())
                }
            }
            let outCount = Int32(swr_get_out_samples(swr, decoded.pointee.nb_samples))
            try withAudioFrame(samples: outCount) { conv in
                let n = avz_swr_convert_frames(swr, conv, outCount, decoded)
                if n > 0 { _ = avz_fifo_write_frame(fifo, conv, n) }
            }
            av_frame_unref(decoded)
        }
        let frameSize = Int32(encoder.pointee.frame_size > 0 ? encoder.pointee.frame_size : 1024)
        let draining = p == nil
        while av_audio_fifo_size(fifo) >= frameSize || (draining && av_audio_fifo_size(fifo) > 0) {
            let n = min(frameSize, av_audio_fifo_size(fifo))
            try withAudioFrame(samples: n) { f in
                _ = avz_fifo_read_frame(fifo, f, n)
                f.pointee.pts = samplesWritten
                samplesWritten += Int64(n)
                try sendToEncoder(f, output: output)
            }
        }
        if draining { try sendToEncoder(nil, output: output) }
    }

    private func withAudioFrame(samples: Int32, _ body: (UnsafeMutablePointer<AVFrame>) throws -> Void) throws {
        guard let encoder else { return }
        var f = av_frame_alloc()
        defer { av_frame_free(&f) }
        guard let frame = f else { return }
        frame.pointee.nb_samples = max(samples, 1)
        frame.pointee.format = encoder.pointee.sample_fmt.rawValue
        frame.pointee.sample_rate = encoder.pointee.sample_rate
        av_channel_layout_copy(&frame.pointee.ch_layout, &encoder.pointee.ch_layout)
        guard av_frame_get_buffer(frame, 0) >= 0 else { throw MediaError.encodeFailed(path: outputPath, reason: "out of memory for audio") }
        try body(frame)
    }

    private func sendToEncoder(_ f: UnsafeMutablePointer<AVFrame>?, output: UnsafeMutablePointer<AVFormatContext>) throws {
        guard let encoder else { return }
        _ = avcodec_send_frame(encoder, f)
        var pkt = av_packet_alloc()
        defer { av_packet_free(&pkt) }
        while avcodec_receive_packet(encoder, pkt) >= 0 {
            av_packet_rescale_ts(pkt, encoder.pointee.time_base, outStream.pointee.time_base)
            pkt!.pointee.stream_index = outStream.pointee.index
            let rc = av_interleaved_write_frame(output, pkt)
            if rc < 0 { throw MediaError.encodeFailed(path: outputPath, reason: "writing audio: \(ffmpegMessage(rc))") }
        }
    }
}
