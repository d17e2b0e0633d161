import Foundation
import Jobs

/// The API's writes: `POST /api/jobs` (a job file's content, enqueued) and `DELETE /api/jobs/ID` (cancel).
extension DashboardApp {
    /// A job file of a few thousand inputs fits; bigger batches are several requests.
    static let maxJobFileBody = 1024 * 1024

    struct SubmittedJobs: Codable, Equatable {
        struct Job: Codable, Equatable { var id: Int64 }
        var jobs: [Job]
    }

    struct Problems: Codable {
        struct Problem: Codable { var file: String; var line: Int; var column: Int; var field: String; var message: String }
        var error: String
        var problems: [Problem]
    }

    func submitJobs(_ request: DashboardRequest, caller: String) async throws -> DashboardResponse {
        guard !options.readOnly else { return .json(try APIJSON.encode(["error": "this dashboard is read-only"]), status: 403) }
        guard let inputRoot = options.inputRoot else {
            return .json(try APIJSON.encode(["error": "this dashboard takes no jobs: it was started without --input-root"]), status: 403)
        }
        let contentType = request.header("Content-Type")
        // Keys are the caller's own: two clients that happen to pick the same key do not see each other's jobs.
        let idempotencyKey = request.header("Idempotency-Key").map { "\(caller):\($0)" }
        let digest = JobSubmission.digest(body: request.body, contentType: contentType)
        if let idempotencyKey, let stored = try await queue.submission(idempotencyKey: idempotencyKey) {
            return try answer(for: stored, digest: digest)
        }
        guard let text = String(bytes: request.body, encoding: .utf8) else {
            return .json(try APIJSON.encode(["error": "the body is not UTF-8 text"]), status: 400)
        }
        let planned: [PlannedJob]
        do {
            planned = try JobSubmission(inputRoot: inputRoot, outputRoot: options.outputRoot, webhookHosts: options.webhookHosts).plan(body: text, contentType: contentType)
        } catch let error as JobFileError {
            let problems = error.diagnostics.map { Problems.Problem(file: $0.file, line: $0.line, column: $0.column, field: $0.field, message: $0.message) }
            return .json(try APIJSON.encode(Problems(error: "the job description was rejected; nothing was enqueued", problems: problems)), status: 422)
        }
        _ = try await queue.enqueue(planned.map(\.spec))
        let byKey = try await queue.jobIDs(keys: planned.map(\.spec.key))
        let ids = planned.compactMap { byKey[$0.spec.key] }
        if let idempotencyKey {
            let stored = try await queue.recordSubmission(StoredSubmission(idempotencyKey: idempotencyKey, requestDigest: digest, jobIDs: ids))
            return try answer(for: stored, digest: digest)
        }
        return .json(try APIJSON.encode(SubmittedJobs(jobs: ids.map { .init(id: $0) })), status: 201)
    }

    /// The jobs a request with this key made; a different body under the same key is refused.
    private func answer(for stored: StoredSubmission, digest: String) throws -> DashboardResponse {
        guard stored.requestDigest == digest else {
            return .json(try APIJSON.encode(["error": "this Idempotency-Key was used for a different request"]), status: 422)
        }
        return .json(try APIJSON.encode(SubmittedJobs(jobs: stored.jobIDs.map { .init(id: $0) })), status: 201)
    }

    func cancelJob(_ id: String) async throws -> DashboardResponse {
        guard !options.readOnly else { return .json(try APIJSON.encode(["error": "this dashboard is read-only"]), status: 403) }
        guard let id = Int64(id), try await queue.job(id: id) != nil else { throw QueueError.noSuchJob(Int64(id) ?? -1) }
        let job = try await queue.cancel(id: id)
        return .json(try APIJSON.encode(JobDetailView(job, events: try await queue.events(jobID: job.id))))
    }
}
