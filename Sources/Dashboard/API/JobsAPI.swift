import Foundation
import Jobs
import OpenAPIRuntime

/// The API's operations over the dashboard's queue. `APIProtocol`, the operations' inputs and outputs, and the
/// routes are generated from `openapi.json` by swift-openapi-generator at build time, so the document the server
/// serves and the answers it gives cannot drift apart.
struct JobsAPI: APIProtocol {
    let app: DashboardApp

    func getStatus(_ input: Operations.GetStatus.Input) async throws -> Operations.GetStatus.Output {
        .ok(.init(body: .json(try Self.reshape(try await app.status()))))
    }

    func getOverview(_ input: Operations.GetOverview.Input) async throws -> Operations.GetOverview.Output {
        .ok(.init(body: .json(try Self.reshape(try await app.overview()))))
    }

    func listJobs(_ input: Operations.ListJobs.Input) async throws -> Operations.ListJobs.Output {
        let limit = input.query.limit ?? 50
        guard (1...500).contains(limit) else { return .badRequest(.init(body: .json(.init(error: "limit must be 1 to 500, not \(limit)")))) }
        var query = JobPageQuery(limit: limit)
        query.state = input.query.state.flatMap { JobState(rawValue: $0.rawValue) }
        if let q = input.query.q, q.unicodeScalars.count < JobPageQuery.minimumSearchLength {
            return .badRequest(.init(body: .json(.init(error: "\(QueueError.searchTooShort(q, minimum: JobPageQuery.minimumSearchLength))"))))
        }
        query.search = input.query.q
        query.before = input.query.before
        do {
            let page = try await app.queue.page(query)
            return .ok(.init(headers: .init(xNextBefore: page.nextBefore), body: .json(try page.jobs.map { try Self.reshape(JobView($0)) })))
        } catch let error as QueueError {
            switch error {
            case .searchTooShort, .searchHasNUL: break
            default: throw error
            }
            return .badRequest(.init(body: .json(.init(error: "\(error)"))))
        }
    }

    func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        guard input.path.id > 0 else { return .badRequest(.init(body: .json(.init(error: "\(input.path.id) is not a job id")))) }
        guard let job = try await app.queue.job(id: input.path.id) else {
            return .notFound(.init(body: .json(.init(error: "\(QueueError.noSuchJob(input.path.id))"))))
        }
        return .ok(.init(body: .json(try Self.reshape(JobDetailView(job, events: try await app.queue.events(jobID: job.id))))))
    }

    func cancelJob(_ input: Operations.CancelJob.Input) async throws -> Operations.CancelJob.Output {
        guard !app.options.readOnly else { return .forbidden(.init(body: .json(.init(error: "this dashboard is read-only")))) }
        let id = input.path.id
        guard id > 0 else { return .badRequest(.init(body: .json(.init(error: "\(id) is not a job id")))) }
        guard try await app.queue.job(id: id) != nil else { return .notFound(.init(body: .json(.init(error: "\(QueueError.noSuchJob(id))")))) }
        do {
            let job = try await app.queue.cancel(id: id)
            return .ok(.init(body: .json(try Self.reshape(JobDetailView(job, events: try await app.queue.events(jobID: job.id))))))
        } catch let error as QueueError {
            guard case .notCancellable = error else { throw error }
            return .conflict(.init(body: .json(.init(error: "\(error)"))))
        }
    }

    func submitJobs(_ input: Operations.SubmitJobs.Input) async throws -> Operations.SubmitJobs.Output {
        guard !app.options.readOnly else { return .forbidden(.init(body: .json(.init(error: "this dashboard is read-only")))) }
        guard let inputRoot = app.options.inputRoot else {
            return .forbidden(.init(body: .json(.init(error: "this dashboard takes no jobs: it was started without --input-root"))))
        }
        // The generated code has checked the content type (and that JSON is JSON); the parser reads the bytes as
        // sent, so that its problems point at the caller's own lines and columns.
        guard let sent = APIRequest.jobFile else { throw APIRequestError.bodyNotCaptured }
        // Keys are the caller's own: two clients that happen to pick the same key do not see each other's jobs.
        let idempotencyKey = input.headers.idempotencyKey.map { "\(APIRequest.caller?.name ?? ""):\($0)" }
        let digest = JobSubmission.digest(body: sent.bytes, contentType: sent.contentType)
        if let idempotencyKey, let stored = try await app.queue.submission(idempotencyKey: idempotencyKey) {
            guard stored.requestDigest == digest else { return Self.keyReused }
            if !stored.jobIDs.isEmpty { return Self.created(stored.jobIDs) }
        }
        guard let text = String(bytes: sent.bytes, encoding: .utf8) else {
            return .badRequest(.init(body: .json(.init(error: "the body is not UTF-8 text"))))
        }
        let planned: [PlannedJob]
        do {
            planned = try JobSubmission(inputRoot: inputRoot, outputRoot: app.options.outputRoot, webhookHosts: app.options.webhookHosts)
                .plan(body: text, contentType: sent.contentType)
        } catch let error as JobFileError {
            return .unprocessableContent(.init(body: .json(Self.problems(error))))
        }
        if let idempotencyKey {
            // The key is claimed for this body before anything is enqueued, so that a different body racing under
            // the same key is refused with nothing of its own left in the queue. A claim whose request died before
            // finishing is finished by the retry: enqueueing the same jobs again finds them by their keys.
            let claimed = try await app.queue.recordSubmission(StoredSubmission(idempotencyKey: idempotencyKey, requestDigest: digest, jobIDs: []))
            guard claimed.requestDigest == digest else { return Self.keyReused }
            if !claimed.jobIDs.isEmpty { return Self.created(claimed.jobIDs) }
        }
        _ = try await app.queue.enqueue(planned.map(\.spec))
        let byKey = try await app.queue.jobIDs(keys: planned.map(\.spec.key))
        let ids = planned.compactMap { byKey[$0.spec.key] }
        if let idempotencyKey { try await app.queue.completeSubmission(idempotencyKey: idempotencyKey, jobIDs: ids) }
        return Self.created(ids)
    }

    func uploadClip(_ input: Operations.UploadClip.Input) async throws -> Operations.UploadClip.Output {
        guard !app.options.readOnly else { return .forbidden(.init(body: .json(.init(error: "this dashboard is read-only")))) }
        guard let inputRoot = app.options.inputRoot else {
            return .forbidden(.init(body: .json(.init(error: "this dashboard takes no uploads: it was started without --input-root"))))
        }
        guard case .binary(let body) = input.body else { throw APIRequestError.bodyNotCaptured }
        let store = UploadStore(folder: URL(fileURLWithPath: inputRoot).appendingPathComponent("uploads"), maxBytes: app.options.maxUploadBytes)
        do {
            let stored = try await store.receive(body, name: input.query.name)
            return .created(.init(body: .json(.init(path: "uploads/\(stored.name)", sha256: stored.sha256, bytes: stored.bytes))))
        } catch let error as UploadError {
            switch error {
            case .badExtension, .empty: return .badRequest(.init(body: .json(.init(error: "\(error)"))))
            case .tooLarge: return .contentTooLarge(.init(body: .json(.init(error: "\(error)"))))
            case .cannotWrite: throw error
            }
        }
    }

    // MARK: - Shapes

    static let keyReused = Operations.SubmitJobs.Output.unprocessableContent(
        .init(body: .json(.init(error: "this Idempotency-Key was used for a different request", problems: []))))

    static func created(_ ids: [Int64]) -> Operations.SubmitJobs.Output {
        .created(.init(body: .json(.init(jobs: ids.map { .init(id: $0) }))))
    }

    /// The parser's problems, each located in the body.
    static func problems(_ error: JobFileError) -> Components.Schemas.Problems {
        .init(error: "the job description was rejected; nothing was enqueued",
              problems: error.diagnostics.map { .init(file: $0.file, line: $0.line, column: $0.column, field: $0.field, message: $0.message) })
    }

    /// A view the CLI's `--json` also prints, as the document's free-form object: the same JSON, keys and values.
    static func reshape<Value: Encodable, Shape: Decodable>(_ value: Value) throws -> Shape {
        try JSONDecoder().decode(Shape.self, from: APIJSON.encode(value))
    }
}

extension DashboardApp {
    /// A job file of a few thousand inputs fits; bigger batches are several requests.
    static let maxJobFileBody = 1024 * 1024
}
