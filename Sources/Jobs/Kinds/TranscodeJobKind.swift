import Foundation
import Logging
import Pipeline

/// The identity pipeline as a job: decode → RGB frames → encode, audio carried. Cheap, so the queue's tests
/// exercise the whole worker path (progress, cancellation, staged output) with it.
public struct TranscodeJobKind: JobKind {
    public let name = "transcode"
    /// Bump when the transcode output for the same input changes, so that re-enqueueing runs the job again.
    public let identity = "transcode/1"
    /// `style` only names the output (`{style}`); nothing else means anything to an identity pipeline.
    public let supportedSettings: Set<String> = ["style"]

    public init() {}

    public func run(_ payload: JobPayload, output: URL, progress: @escaping @Sendable (JobProgress) -> Void) async throws -> JobOutcome {
        let request = TranscodeRequest(input: URL(fileURLWithPath: payload.input), output: output)
        // The pipeline is synchronous; it stops through the progress callback when the task is cancelled.
        try await runOnOwnThread(named: "avatarize-transcode") { cancellation in
            _ = try transcode(request, logger: Logger(label: "avatarize.jobs.transcode")) { done, total in
                progress(JobProgress(done: done, total: total ?? 0))
                return !cancellation.isSet
            }
        }
        return JobOutcome()
    }
}
