import Foundation

/// One page of the jobs table, newest first, found by keyset (ids below `before`) so that page 1 000 costs
/// what page 1 costs: an index range scan of `limit` rows, never an OFFSET over the rows before it.
public struct JobPageQuery: Sendable, Equatable {
    public var state: JobState?
    /// Case-insensitive substring of the job's input or output path, at least `minimumSearchLength` characters:
    /// found through a trigram index (SQLite's FTS5 trigram tokenizer, PostgreSQL's pg_trgm), so a search that
    /// matches nothing costs an index lookup, not a pass over every job.
    public var search: String?
    /// Only jobs with a smaller id (the last id of the page before); nil for the first page.
    public var before: Int64?
    public var limit: Int

    /// A trigram index answers for three characters or more; a shorter search would read every job.
    public static let minimumSearchLength = 3

    public init(state: JobState? = nil, search: String? = nil, before: Int64? = nil, limit: Int = 50) {
        self.state = state; self.search = search; self.before = before; self.limit = limit
    }

    /// The search text, nil when there is none; one too short for the index is refused.
    func checkedSearch() throws -> String? {
        guard let search, !search.isEmpty else { return nil }
        // Neither database takes one inside a search (FTS5 ends the phrase there, PostgreSQL refuses the text).
        guard !search.unicodeScalars.contains("\0") else { throw QueueError.searchHasNUL }
        guard search.unicodeScalars.count >= Self.minimumSearchLength else {
            throw QueueError.searchTooShort(search, minimum: Self.minimumSearchLength)
        }
        return search
    }

    /// `search` as a LIKE pattern with its own `%`, `_` and `\` taken literally (escape character `\`).
    static func likePattern(_ search: String) -> String {
        var escaped = ""
        for c in search {
            if c == "%" || c == "_" || c == "\\" { escaped.append("\\") }
            escaped.append(c)
        }
        return "%" + escaped + "%"
    }

    /// `search` as an FTS5 phrase: with the trigram tokenizer a phrase matches exactly the texts that contain it
    /// (its trigrams at consecutive positions). Double quotes inside a phrase are written twice.
    static func trigramPhrase(_ search: String) -> String {
        "\"" + search.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

public struct JobPage: Sendable, Equatable {
    public var jobs: [JobRecord]
    /// The `before` of the next page, nil on the last.
    public var nextBefore: Int64?

    public init(jobs: [JobRecord], limit: Int) {
        self.jobs = Array(jobs.prefix(limit))
        nextBefore = jobs.count > limit ? self.jobs.last?.id : nil
    }
}

/// Jobs that finished successfully in a window, for throughput. The window is the last hour, or less when work
/// began within it (from the first claim in it): a batch started a minute ago is not averaged over an hour.
public struct QueueThroughput: Sendable, Equatable, Codable {
    public var since: Date
    public var jobs: Int
    public var frames: Int
    public var minutes: Double

    /// The window from `since` (the hour's start) or from `firstClaim` in it, whichever is later, to `now`.
    init(since: Date, firstClaim: Date?, jobs: Int, frames: Int, now: Date = Date()) {
        self.since = max(since, firstClaim ?? since)
        self.jobs = jobs; self.frames = frames
        minutes = now.timeIntervalSince(self.since) / 60
    }

    public var jobsPerMinute: Double { minutes > 0 ? Double(jobs) / minutes : 0 }
    public var framesPerMinute: Double { minutes > 0 ? Double(frames) / minutes : 0 }
}

/// A worker as the queue has seen it: its latest event or heartbeat, and the job it holds now.
public struct WorkerSighting: Sendable, Equatable, Codable {
    public var name: String
    public var lastSeen: Date
    public var currentJob: Int64?

    public init(name: String, lastSeen: Date, currentJob: Int64?) {
        self.name = name; self.lastSeen = lastSeen; self.currentJob = currentJob
    }

    /// Events since `since` (latest per lease holder) and the running jobs' lease holders (a heartbeat moves the
    /// job's `updated_at`), merged: one sighting per worker, most recent first.
    static func merge(events: [(String, Date)], running: [(String, Date, Int64)]) -> [WorkerSighting] {
        var byName: [String: WorkerSighting] = [:]
        for (owner, at) in events {
            let name = workerName(owner)
            byName[name] = WorkerSighting(name: name, lastSeen: max(at, byName[name]?.lastSeen ?? .distantPast), currentJob: byName[name]?.currentJob)
        }
        for (owner, at, id) in running {
            let name = workerName(owner)
            byName[name] = WorkerSighting(name: name, lastSeen: max(at, byName[name]?.lastSeen ?? .distantPast), currentJob: id)
        }
        return byName.values.sorted { ($0.lastSeen, $0.name) > ($1.lastSeen, $1.name) }
    }

    /// A worker holds each lease as `WORKER/N`, a token per claim (Worker's claim loop): the worker is the name
    /// before the claim number.
    static func workerName(_ leaseOwner: String) -> String {
        guard let slash = leaseOwner.lastIndex(of: "/"), Int(leaseOwner[leaseOwner.index(after: slash)...]) != nil else { return leaseOwner }
        return String(leaseOwner[..<slash])
    }
}

/// What the dashboard reads besides the `JobQueue` basics; both backends answer from indexes (migration 2).
public protocol QueueBrowsing: JobQueue {
    func page(_ query: JobPageQuery) async throws -> JobPage
    /// Jobs that succeeded since `since`, and their frames.
    func throughput(since: Date) async throws -> QueueThroughput
    func workers(since: Date) async throws -> [WorkerSighting]
    /// Queued jobs waiting out a retry backoff.
    func waitingRetryCount() async throws -> Int
    /// Dead jobs, most recently finished first.
    func recentFailures(limit: Int) async throws -> [JobRecord]
    /// Sets a job's priority: a queued job keeps its place in line but moves up; a dead or cancelled job is
    /// queued again with its attempts reset (as `retry`). Running and succeeded jobs are refused.
    func requeue(id: Int64, priority: Int) async throws -> JobRecord
    /// The ids of the jobs with these keys (those in the queue).
    func jobIDs(keys: [String]) async throws -> [String: Int64]
    /// The submission recorded under this idempotency key, if any.
    func submission(idempotencyKey: String) async throws -> StoredSubmission?
    /// Records `submission` unless its key is taken; answers what is recorded under the key either way (another
    /// request with the same key may have got there first).
    func recordSubmission(_ submission: StoredSubmission) async throws -> StoredSubmission
    /// Sets the jobs of a submission recorded (claimed) earlier under this key.
    func completeSubmission(idempotencyKey: String, jobIDs: [Int64]) async throws
}

/// What an API request with an `Idempotency-Key` made: the digest of its body and its jobs, so that the same request
/// again answers the same jobs and a different body under the same key is refused.
public struct StoredSubmission: Sendable, Equatable {
    public var idempotencyKey: String
    public var requestDigest: String
    public var jobIDs: [Int64]
    public init(idempotencyKey: String, requestDigest: String, jobIDs: [Int64]) {
        self.idempotencyKey = idempotencyKey; self.requestDigest = requestDigest; self.jobIDs = jobIDs
    }
}
