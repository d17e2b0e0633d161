import CFFmpeg
import Foundation

/// What `avatarize probe` reports about a file.
public struct MediaInfo: Codable, Sendable {
    public struct Stream: Codable, Sendable {
        public var index: Int
        public var kind: String
        public var codec: String
        public var timeBase: String
        public var duration: Double?
        public var frameCount: Int?
        // video
        public var width: Int?
        public var height: Int?
        public var frameRate: Double?
        public var rotation: Int?
        public var pixelFormat: String?
        // audio
        public var sampleRate: Int?
        public var channels: Int?
        public var bitRate: Int?
    }

    public var path: String
    public var container: String
    public var duration: Double?
    public var bitRate: Int?
    public var streams: [Stream]

    public var video: Stream? { streams.first { $0.kind == "video" } }
    public var audio: Stream? { streams.first { $0.kind == "audio" } }

    /// Reads container and stream facts without decoding.
    public static func probe(_ url: URL) throws -> MediaInfo {
        let input = try MediaInput(url: url)
        let f = input.format.pointee
        var streams: [Stream] = []
        for i in 0..<input.streamCount {
            let st = input.stream(i)
            let par = st.pointee.codecpar.pointee
            let kind: String
            switch par.codec_type {
            case AVMEDIA_TYPE_VIDEO: kind = "video"
            case AVMEDIA_TYPE_AUDIO: kind = "audio"
            case AVMEDIA_TYPE_SUBTITLE: kind = "subtitle"
            case AVMEDIA_TYPE_DATA: kind = "data"
            default: kind = "other"
            }
            let tb = Rational(st.pointee.time_base)
            let dur: Double? = st.pointee.duration != avz_nopts_value() && st.pointee.duration > 0
                ? Double(st.pointee.duration) * tb.value : nil
            var s = Stream(index: i, kind: kind, codec: String(cString: avcodec_get_name(par.codec_id)),
                           timeBase: tb.description, duration: dur,
                           frameCount: st.pointee.nb_frames > 0 ? Int(st.pointee.nb_frames) : nil)
            if par.bit_rate > 0 { s.bitRate = Int(par.bit_rate) }
            if kind == "video" {
                s.width = Int(par.width); s.height = Int(par.height)
                let r = Rational(st.pointee.avg_frame_rate).isValid ? Rational(st.pointee.avg_frame_rate) : Rational(st.pointee.r_frame_rate)
                s.frameRate = r.isValid ? r.value : nil
                // As ffprobe reports it: the display matrix's counter-clockwise angle.
                s.rotation = (360 - uprightRotation(of: st)) % 360
                if let name = av_get_pix_fmt_name(AVPixelFormat(rawValue: par.format)) { s.pixelFormat = String(cString: name) }
            } else if kind == "audio" {
                s.sampleRate = Int(par.sample_rate)
                s.channels = Int(par.ch_layout.nb_channels)
            }
            streams.append(s)
        }
        let duration: Double? = f.duration != avz_nopts_value() && f.duration > 0 ? Double(f.duration) / Double(avz_time_base()) : nil
        return MediaInfo(path: url.path, container: String(cString: f.iformat.pointee.name),
                         duration: duration, bitRate: f.bit_rate > 0 ? Int(f.bit_rate) : nil, streams: streams)
    }
}
