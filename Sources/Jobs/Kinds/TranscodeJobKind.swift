import Foundation
import Logging
import Pipeline

/// The identity pipeline as a job: decode → RGB frames → encode, audio carried. It stands in for the avatar
/// render until that exists, and exercises the same worker path (progress, cancellation, staged output).
public struct TranscodeJobKind: JobKind {
    public let name = "transcode"
    /// Bump when the transcode output for the same input changes, so that re-enqueueing runs the job again.
    public let identity = "transcode/1"
    /// `style` only names the output (`{style}`); nothing else means anything to an identity pipeline.
    public let supportedSettings: Set<String> = ["style"]

    public init() {}

    public func run(_ payload: JobPayload, output: URL, progress: @escaping @Sendable (JobProgress) -> Void) async throws {
        let request = TranscodeRequest(input: URL(fileURLWithPath: payload.input), output: output)
        let cancellation = CancellationFlag()
        // The pipeline is synchronous and CPU-bound; run it on its own thread so it does not occupy one of the
        // cooperative pool's few threads, and stop it through the progress callback when the task is cancelled.
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let thread = Thread {
                    do {
                        _ = try transcode(request, logger: Logger(label: "avatarize.jobs.transcode")) { done, total in
                            progress(JobProgress(done: done, total: total ?? 0))
                            return !cancellation.isSet
                        }
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "avatarize-transcode"
                thread.start()
            }
        } onCancel: {
            cancellation.set()
        }
    }
}
