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
        }
    }
}
