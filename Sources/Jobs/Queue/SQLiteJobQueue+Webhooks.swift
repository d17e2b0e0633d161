import Foundation
import GRDB

extension SQLiteJobQueue: WebhookLedger {
    public func claimWebhook(worker: String, lease: TimeInterval) async throws -> OwedWebhook? {
        try await write { db in
            let now = Date().timeIntervalSince1970
            guard let row = try Row.fetchOne(db, sql: """
                SELECT job_id, url, outcome, attempts FROM avatarize_webhooks
                WHERE delivered_at IS NULL AND next_attempt_at <= ? AND (lease_owner IS NULL OR lease_expires_at < ?)
                ORDER BY next_attempt_at LIMIT 1
                """, arguments: [now, now]) else { return nil }
            let owed = OwedWebhook(jobID: row["job_id"], url: row["url"], outcome: row["outcome"], attempts: row["attempts"])
            try db.execute(sql: "UPDATE avatarize_webhooks SET lease_owner = ?, lease_expires_at = ? WHERE job_id = ?",
                           arguments: [worker, now + lease, owed.jobID])
            return owed
        }
    }

    public func recordWebhookAttempt(_ owed: OwedWebhook, worker: String, status: Int?, error: String?, delivered: Bool,
                                     retryAfter: TimeInterval) async throws -> Bool {
        try await write { db in
            let now = Date()
            try db.execute(sql: """
                UPDATE avatarize_webhooks SET attempts = attempts + 1, last_status = ?, last_error = ?, lease_owner = NULL,
                    lease_expires_at = NULL, delivered_at = ?, next_attempt_at = ?
                WHERE job_id = ? AND lease_owner = ? AND outcome = ? AND delivered_at IS NULL
                """, arguments: [status, error, delivered ? now.timeIntervalSince1970 : nil, now.timeIntervalSince1970 + retryAfter,
                                 owed.jobID, worker, owed.outcome])
            guard db.changesCount == 1 else { return false }
            try Self.record(db, JobEvent(jobID: owed.jobID, at: now, kind: .webhook, worker: worker,
                                         detail: Self.eventDetail(owed, status: status, error: error, delivered: delivered, retryAfter: retryAfter)))
            return true
        }
    }

    public func webhookDelivery(jobID: Int64) async throws -> WebhookDelivery? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM avatarize_webhooks WHERE job_id = ?", arguments: [jobID]) else { return nil }
            let delivered: Double? = row["delivered_at"]
            let next: Double = row["next_attempt_at"]
            return WebhookDelivery(url: row["url"], outcome: row["outcome"], attempts: row["attempts"],
                                   deliveredAt: delivered.map(Date.init(timeIntervalSince1970:)),
                                   nextAttemptAt: delivered == nil ? Date(timeIntervalSince1970: next) : nil,
                                   lastStatus: row["last_status"], lastError: row["last_error"])
        }
    }
}
