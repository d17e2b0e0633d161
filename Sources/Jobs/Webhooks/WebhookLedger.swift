import Foundation

/// A webhook the queue owes: the job, its URL and the outcome to tell.
public struct OwedWebhook: Sendable, Equatable {
    public var jobID: Int64
    public var url: String
    /// succeeded, dead or cancelled.
    public var outcome: String
    /// Attempts made before this one.
    public var attempts: Int
}

/// What the queue knows about one job's webhook.
public struct WebhookDelivery: Sendable, Equatable, Codable {
    public var url: String
    public var outcome: String
    public var attempts: Int
    public var deliveredAt: Date?
    public var nextAttemptAt: Date?
    public var lastStatus: Int?
    public var lastError: String?
}

/// The webhooks owed by the queue (migration v10-webhooks / 10): rows written by a trigger when a job that names a
/// webhook ends, claimed by workers under a lease like jobs, so that a worker that dies mid-delivery leaves the
/// delivery to another, and marked delivered once the receiver answered 2xx (never sent again for that outcome).
public protocol WebhookLedger: Sendable {
    /// Takes one owed delivery whose time has come (and whose lease, if any, ran out) for `lease` seconds.
    func claimWebhook(worker: String, lease: TimeInterval) async throws -> OwedWebhook?
    /// Records one attempt (as a `webhook` event on the job too): delivered, or to be tried again after `retryAfter`
    /// seconds. False when the worker no longer held the delivery (its lease ran out, or the outcome changed).
    func recordWebhookAttempt(_ owed: OwedWebhook, worker: String, status: Int?, error: String?, delivered: Bool,
                              retryAfter: TimeInterval) async throws -> Bool
    func webhookDelivery(jobID: Int64) async throws -> WebhookDelivery?
}

extension WebhookLedger {
    /// The detail of an attempt's `webhook` event.
    static func eventDetail(_ owed: OwedWebhook, status: Int?, error: String?, delivered: Bool, retryAfter: TimeInterval) -> String {
        let answer = status.map { "HTTP \($0)" } ?? (error ?? "no answer")
        let next = delivered ? "delivered" : "next attempt in \(Int(retryAfter)) s"
        return "attempt \(owed.attempts + 1) of the \(owed.outcome) webhook to \(owed.url): \(answer); \(next)"
    }
}
