import Foundation
import PostgresNIO

extension PostgresJobQueue: WebhookLedger {
    public func claimWebhook(worker: String, lease: TimeInterval) async throws -> OwedWebhook? {
        try await run {
            // SKIP LOCKED: workers claiming at once take different deliveries instead of queueing on one row.
            let rows = try await self.client.query("""
                UPDATE avatarize_webhooks SET lease_owner = \(worker), lease_expires_at = now() + make_interval(secs => \(lease))
                WHERE job_id = (
                    SELECT job_id FROM avatarize_webhooks
                    WHERE delivered_at IS NULL AND next_attempt_at <= now() AND (lease_owner IS NULL OR lease_expires_at < now())
                    ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING job_id, url, outcome, attempts
                """, logger: self.logger).collect()
            guard let row = rows.first else { return nil }
            let (id, url, outcome, attempts) = try row.decode((Int64, String, String, Int64).self)
            return OwedWebhook(jobID: id, url: url, outcome: outcome, attempts: Int(attempts))
        }
    }

    public func recordWebhookAttempt(_ owed: OwedWebhook, worker: String, status: Int?, error: String?, delivered: Bool,
                                     retryAfter: TimeInterval) async throws -> Bool {
        let detail = Self.eventDetail(owed, status: status, error: error, delivered: delivered, retryAfter: retryAfter)
        let statusValue = status.map(Int64.init)
        return try await transaction { connection in
            let rows = try await connection.query("""
                UPDATE avatarize_webhooks SET attempts = attempts + 1, last_status = \(statusValue), last_error = \(error),
                    lease_owner = NULL, lease_expires_at = NULL,
                    delivered_at = CASE WHEN \(delivered) THEN now() END,
                    next_attempt_at = now() + make_interval(secs => \(retryAfter))
                WHERE job_id = \(owed.jobID) AND lease_owner = \(worker) AND outcome = \(owed.outcome) AND delivered_at IS NULL
                RETURNING job_id
                """, logger: self.logger).collect()
            guard !rows.isEmpty else { return false }
            try await connection.query("""
                INSERT INTO avatarize_job_events (job_id, at, event, worker, detail) VALUES (\(owed.jobID), now(), 'webhook', \(worker), \(detail))
                """, logger: self.logger)
            return true
        }
    }

    public func webhookDelivery(jobID: Int64) async throws -> WebhookDelivery? {
        try await run {
            let rows = try await self.client.query("""
                SELECT url, outcome, attempts, delivered_at, next_attempt_at, last_status, last_error FROM avatarize_webhooks WHERE job_id = \(jobID)
                """, logger: self.logger).collect()
            guard let row = rows.first else { return nil }
            let (url, outcome, attempts, delivered, next, status, error) = try row.decode((String, String, Int64, Date?, Date, Int64?, String?).self)
            return WebhookDelivery(url: url, outcome: outcome, attempts: Int(attempts), deliveredAt: delivered,
                                   nextAttemptAt: delivered == nil ? next : nil, lastStatus: status.map(Int.init), lastError: error)
        }
    }
}
