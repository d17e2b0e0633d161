import Foundation

/// One line of a job's history, written in the same transaction as the state change it records,
/// so the history is exactly the sequence of committed transitions.
public struct JobEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case enqueued, claimed, succeeded, retryScheduled = "retry_scheduled", dead, released, cancelled,
             expired, requeued
        /// One attempt to deliver the job's webhook (`detail` says which, to where, and what came back).
        case webhook
    }

    public var jobID: Int64
    public var at: Date
    public var kind: Kind
    public var worker: String?
    public var detail: String?

    public init(jobID: Int64, at: Date, kind: Kind, worker: String?, detail: String?) {
        self.jobID = jobID
        self.at = at
        self.kind = kind
        self.worker = worker
        self.detail = detail
    }
}
