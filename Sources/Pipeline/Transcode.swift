import Foundation
import Logging
import Video

/// The identity pipeline: decode → RGB frames → encode, audio carried. Later stages slot in between
/// the reader and the writer through `transform`, so this is also the skeleton of every render.
public struct TranscodeRequest: Sendable {
    public var input: URL
    public var output: URL
    public var start: Double = 0
    public var duration: Double? = nil
    public var size: (width: Int, height: Int)? = nil
    public var crf: Int = 18
    public var preset: String = "medium"
    public var keepAudio = true

    public init(input: URL, output: URL) { self.input = input; self.output = output }
}

/// What a finished run reports.
public struct TranscodeReport: Sendable {
    public var frames: Int
    public var framesLost: Int
    public var width: Int
    public var height: Int
    public var frameRate: Double
    public var hasAudio: Bool
    public var encoder: String
    public var notes: [String]
    public var seconds: Double
}

/// Progress callback: frames done, frames expected (when known). Return false to stop early (cancel);
/// the output is then not written.
public typealias ProgressHandler = (_ done: Int, _ total: Int?) -> Bool

public enum PipelineError: Error, CustomStringConvertible {
    case cancelled(output: String)
    public var description: String {
        switch self {
        case .cancelled(let o): return "\(o): cancelled; no output was written"
        }
    }
}

public func transcode(_ request: TranscodeRequest, logger: Logger = Logger(label: "avatarize.pipeline"),
                      progress: ProgressHandler? = nil) throws -> TranscodeReport {
    let began = Date()
    try checkOutputPath(request.output, input: request.input)
    let reader = try VideoReader(url: request.input,
                                 options: .init(start: request.start, duration: request.duration, size: request.size),
                                 logger: logger)
    var options = VideoWriter.Options()
    options.crf = request.crf
    options.preset = request.preset
    options.frameRate = reader.frameRate
    options.timeBase = reader.timeBase
    if request.keepAudio {
        options.audio = .init(url: request.input, start: request.start, duration: request.duration)
    }
    let writer = try VideoWriter(url: request.output, width: reader.width, height: reader.height, options: options, logger: logger)
    // Decoding runs one thread ahead of encoding; `reader` is touched only by that thread until it stops.
    let frames = FramePrefetcher(reader: reader)
    let expected = reader.expectedFrameCount
    var done = 0
    do {
        while let frame = try frames.next() {
            try writer.write(frame)
            done += 1
            if let progress, !progress(done, expected) {
                throw PipelineError.cancelled(output: request.output.path)
            }
        }
        try writer.finish()
        frames.stop()
    } catch {
        frames.stop()
        writer.cancel()
        throw error
    }
    return TranscodeReport(frames: reader.framesDelivered, framesLost: reader.framesLost,
                           width: writer.width, height: writer.height, frameRate: reader.frameRate.value,
                           hasAudio: writer.hasAudio, encoder: writer.encoderName, notes: writer.notes,
                           seconds: Date().timeIntervalSince(began))
}
