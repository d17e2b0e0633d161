import Foundation
import Models
import Pipeline
import Video

/// How a worker treats a failed attempt. Another attempt cannot cure a `permanent` failure (a bad setting, an input
/// that is not media, models that do not fit together), so the job goes `dead` at once with the reason; a `transient`
/// one (I/O, database, a lost lease) is retried with backoff; a full disk (`diskFull`) is nobody's fault in the job:
/// the worker gives the job back without spending an attempt and stops claiming for a while.
enum FailureClass: Equatable, Sendable {
    case permanent
    case transient
    case diskFull

    static func of(_ error: any Error) -> FailureClass {
        if isDiskFull(error) { return .diskFull }
        switch error {
        case let error as WorkerError:
            switch error {
            case .unknownKind, .outputOutsideRoot, .outputRootMismatch: return .permanent
            case .outputMissing, .cannotPlaceOutput, .staging: return .transient
            }
        case let error as MediaError:
            switch error {
            case .fileNotFound, .notMedia, .noVideoStream, .unsupportedCodec, .corrupt, .noDecodableFrames, .outputIsInput,
                 .invalidRange, .invalidArgument, .highDynamicRange:
                return .permanent
            case .outputNotWritable, .encoderUnavailable, .encodeFailed:
                return .transient
            }
        case is AvatarJobError, is ModelError, is EncoderLoadError, is AvatarModels.LoadError, is DirectionError:
            return .permanent
        case let error as QueueError:
            if case .corruptPayload = error { return .permanent }
            return .transient
        default:
            return .transient
        }
    }

    /// ENOSPC, however it reached us: a POSIX error (possibly wrapped by Foundation), or a message with the C
    /// library's text for it (FFmpeg and the track writer report errno as text).
    static func isDiskFull(_ error: any Error) -> Bool {
        var current: NSError? = error as NSError
        while let ns = current {
            if ns.domain == NSPOSIXErrorDomain, ns.code == Int(ENOSPC) { return true }
            if ns.domain == NSCocoaErrorDomain, ns.code == CocoaError.fileWriteOutOfSpace.rawValue { return true }
            current = ns.userInfo[NSUnderlyingErrorKey] as? NSError
        }
        let text = "\(error)"
        return text.contains(String(cString: strerror(ENOSPC))) || text.contains("ENOSPC")
    }
}
