import Foundation
import XCTest
@testable import Jobs

/// The webhooks the queue owes (`WebhookLedger`), on each backend: written with the job's end, leased to one
/// worker at a time, retried after a failure, never again once delivered.
extension QueueScenarios {
    func webhookPayload(_ name: String, hook: String?) throws -> String {
        try JobPayload(input: "/clips/\(name).mp4", output: "/out/\(name).mp4", outputRoot: "/out", clip: name,
                       settings: JobSettings(style: "sketch", edits: [:], smoothing: nil, camera: nil, layout: nil), webhook: hook).encoded()
    }

    func owedWebhooksAreWrittenWithTheOutcomeAndLeased() async throws {
        let directory = try TemporaryDirectory("webhooks")
        let queue = try await backend.openQueue(try backend.makeQueueURL(in: directory))
        defer { Task { try? await queue.close() } }
        let ledger = try XCTUnwrap(queue as? any WebhookLedger)
        let hook = "http://127.0.0.1:9/hook"
        let ids = try await queue.enqueue([
            JobSpec(key: "with-hook", kind: "avatar", payload: try webhookPayload("a", hook: hook), priority: 3),
            JobSpec(key: "not-a-url", kind: "transcode", payload: #"{"test": "x", "webhook": 5}"#, priority: 2),
            JobSpec(key: "no-hook", kind: "avatar", payload: try webhookPayload("b", hook: nil), priority: 1),
            JobSpec(key: "cancelled", kind: "avatar", payload: try webhookPayload("c", hook: hook), priority: 0),
        ]).inserted

        // Owed from the transaction that ends the job: nothing else has to happen for the queue to know.
        guard let first = try await queue.claim(worker: "w", lease: 60) else { return XCTFail("no first") }
        XCTAssertEqual(first.id, ids[0])
        _ = try await queue.complete(id: first.id, worker: "w", progress: nil) {}
        let owed = try await ledger.webhookDelivery(jobID: ids[0])
        XCTAssertEqual(owed?.outcome, "succeeded")
        XCTAssertEqual(owed?.url, hook)
        XCTAssertEqual(owed?.attempts, 0)
        XCTAssertNil(owed?.deliveredAt)
        guard let second = try await queue.claim(worker: "w", lease: 60) else { return XCTFail("no second") }
        _ = try await queue.complete(id: second.id, worker: "w", progress: nil) {}
        _ = try await queue.cancel(id: ids[2])
        let none1 = try await ledger.webhookDelivery(jobID: ids[1])
        let none2 = try await ledger.webhookDelivery(jobID: ids[2])
        XCTAssertNil(none1, "a webhook that is not a string is none")
        XCTAssertNil(none2)

        // One worker at a time; a failure is tried again after its backoff, then delivered once.
        guard let claimed = try await ledger.claimWebhook(worker: "a", lease: 60) else { return XCTFail("no claimed") }
        XCTAssertEqual(claimed, OwedWebhook(jobID: ids[0], url: hook, outcome: "succeeded", attempts: 0))
        let leased = try await ledger.claimWebhook(worker: "b", lease: 60)
        XCTAssertNil(leased)
        let failed = try await ledger.recordWebhookAttempt(claimed, worker: "a", status: 500, error: nil, delivered: false, retryAfter: 0.5)
        XCTAssertTrue(failed)
        let early = try await ledger.claimWebhook(worker: "b", lease: 60)
        XCTAssertNil(early, "not before its backoff")
        try await Task.sleep(nanoseconds: 700_000_000)
        guard let again = try await ledger.claimWebhook(worker: "b", lease: 60) else { return XCTFail("no again") }
        XCTAssertEqual(again.attempts, 1)
        let stale = try await ledger.recordWebhookAttempt(claimed, worker: "a", status: 200, error: nil, delivered: true, retryAfter: 0)
        XCTAssertFalse(stale, "a worker that no longer holds the delivery records nothing")
        let delivered = try await ledger.recordWebhookAttempt(again, worker: "b", status: 204, error: nil, delivered: true, retryAfter: 0)
        XCTAssertTrue(delivered)
        let done = try await ledger.webhookDelivery(jobID: ids[0])
        XCTAssertEqual(done?.attempts, 2)
        XCTAssertEqual(done?.lastStatus, 204)
        XCTAssertNotNil(done?.deliveredAt)
        let events = try await queue.events(jobID: ids[0]).filter { $0.kind == .webhook }
        XCTAssertEqual(events.map(\.worker), ["a", "b"])
        XCTAssertTrue(events.first?.detail?.contains("HTTP 500") == true, "\(events)")

        // A cancelled job owes its outcome too; a worker that dies mid-delivery leaves it to another once its lease ends.
        _ = try await queue.cancel(id: ids[3])
        guard let dying = try await ledger.claimWebhook(worker: "dies", lease: 0.3) else { return XCTFail("no dying") }
        XCTAssertEqual(dying.outcome, "cancelled")
        try await Task.sleep(nanoseconds: 500_000_000)
        guard let takenOver = try await ledger.claimWebhook(worker: "c", lease: 60) else { return XCTFail("no takenOver") }
        XCTAssertEqual(takenOver.jobID, ids[3])
        _ = try await ledger.recordWebhookAttempt(takenOver, worker: "c", status: 200, error: nil, delivered: true, retryAfter: 0)
        let nothingLeft = try await ledger.claimWebhook(worker: "c", lease: 60)
        XCTAssertNil(nothingLeft, "a delivered outcome is never sent again")
    }
}
