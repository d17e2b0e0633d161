import Foundation

/// Everything that can go wrong with a media file, phrased for the person who ran the command.
public enum MediaError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case notMedia(path: String, reason: String)
    case noVideoStream(path: String)
    case unsupportedCodec(path: String, codec: String)
    case corrupt(path: String, reason: String)
    case noDecodableFrames(path: String)
    case outputNotWritable(path: String, reason: String)
    case outputIsInput(path: String)
    case encoderUnavailable(reason: String)
    case encodeFailed(path: String, reason: String)
    case invalidRange(path: String, reason: String)
    case invalidArgument(String)
    /// PQ or HLG video: avatarize works in 8-bit BT.709 and does not tone-map.
    case highDynamicRange(path: String, color: ColorDescription)

    public var description: String {
        switch self {
        case .fileNotFound(let p): return "\(p): no such file"
        case .notMedia(let p, let r): return "\(p): not a media file FFmpeg can read (\(r))"
        case .noVideoStream(let p): return "\(p): the file has no video stream"
        case .unsupportedCodec(let p, let c): return "\(p): no decoder for the video codec '\(c)' in this FFmpeg build"
        case .corrupt(let p, let r): return "\(p): the file is truncated or corrupt (\(r))"
        case .noDecodableFrames(let p): return "\(p): no video frame could be decoded (truncated or corrupt file)"
        case .outputNotWritable(let p, let r): return "\(p): cannot write the output here (\(r))"
        case .outputIsInput(let p): return "\(p): the output would overwrite the input; choose another output path"
        case .encoderUnavailable(let r): return "no usable video encoder: \(r)"
        case .encodeFailed(let p, let r): return "\(p): encoding failed (\(r))"
        case .invalidRange(let p, let r): return "\(p): \(r)"
        case .invalidArgument(let m): return m
        case .highDynamicRange(let p, let c):
            return "\(p): HDR video (\(c)) is not supported; tone-map it to SDR BT.709 first, e.g. "
                + "ffmpeg -i IN -vf zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=hable:desat=0,"
                + "zscale=t=bt709:m=bt709:r=tv,format=yuv420p OUT.mp4"
        }
    }
}
