import Foundation
import Jobs
import Reports

/// How the dashboard was started.
public struct DashboardOptions: Sendable {
    public var host: String
    public var token: String?
    public var readOnly: Bool
    /// Seconds between the pages' background refreshes.
    public var refreshSeconds: Double
    /// Browsers reach the dashboard over HTTPS (a proxy in front): the session cookie is marked `Secure`.
    public var behindTLS: Bool
    public var sessionLimits: SessionStore.Limits
    /// `name token` lines, read again when the file changes (see `APITokens`).
    public var tokenFile: String?
    /// Where `POST /api/jobs` inputs must be (relative ones resolve against it); without it the API takes no jobs.
    public var inputRoot: String?
    /// Where submitted jobs' outputs must go; the input root when not given.
    public var outputRoot: String?
    /// The hosts a submitted job's webhook may name (`--webhook-hosts`); none when nil.
    public var webhookHosts: WebhookHosts?
    /// The largest clip `POST /api/uploads` takes.
    public var maxUploadBytes: Int64 = 2 << 30

    public init(host: String = "127.0.0.1", token: String? = nil, readOnly: Bool = false, refreshSeconds: Double = 2,
                behindTLS: Bool = false, sessionLimits: SessionStore.Limits = SessionStore.Limits(),
                tokenFile: String? = nil, inputRoot: String? = nil, outputRoot: String? = nil, webhookHosts: WebhookHosts? = nil) {
        self.host = host; self.token = token; self.readOnly = readOnly; self.refreshSeconds = refreshSeconds
        self.behindTLS = behindTLS; self.sessionLimits = sessionLimits
        self.tokenFile = tokenFile; self.inputRoot = inputRoot; self.outputRoot = outputRoot; self.webhookHosts = webhookHosts
    }
}

/// The dashboard's routes: HTML pages, the JSON API, pictures of jobs' inputs and outputs, their reports, and
/// the retry / cancel / re-queue actions. Every page's user-controlled text is escaped; every picture or report
/// is found from a job id through the queue, never from a path in the URL.
public final class DashboardApp: Sendable {
    public let queue: any QueueBrowsing
    public let options: DashboardOptions
    /// The synchronizer token every action form carries (a page of another origin cannot read it).
    public let csrfToken: String
    let sessions: SessionStore
    let tokens: APITokens
    let loginThrottle = LoginThrottle()
    let previews = MediaPreviews()

    public init(queue: any QueueBrowsing, options: DashboardOptions) throws {
        tokens = try APITokens(file: options.tokenFile, single: options.token)
        if !tokens.configured && !Self.isLoopback(options.host) { throw DashboardError.tokenRequired(host: options.host) }
        self.queue = queue; self.options = options
        sessions = SessionStore(limits: options.sessionLimits)
        csrfToken = SessionStore.randomToken()
    }

    public static func isLoopback(_ host: String) -> Bool { LoopbackHost.isLoopbackAddress(host) }

    static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]

    /// An error from a route in the dashboard's shapes: a JSON body under /api, an HTML page elsewhere.
    func errorResponse(_ request: DashboardRequest, _ error: any Error) -> DashboardResponse {
        let status: Int
        switch error {
        case let error as QueueError:
            switch error {
            case .noSuchJob: status = 404
            case .notCancellable, .notRetryable: status = 409
            case .searchTooShort, .searchHasNUL: status = 400
            default: status = 500
            }
        case is DashboardRequestError: status = 400
        default: status = 500
        }
        return errorResponse(request, status: status, message: "\(error)")
    }

    private func errorResponse(_ request: DashboardRequest, status: Int, message: String) -> DashboardResponse {
        if request.path.hasPrefix("/api/") {
            let body = (try? APIJSON.encode(["error": message])) ?? Data()
            return .json(body, status: status)
        }
        return .html(Pages(app: self).error(status: status, message: message), status: status)
    }

    // MARK: - Authentication

    /// Who the caller is: the bearer token or a live session when a token is set; anyone otherwise (the Host
    /// guard has already turned away every name that is not loopback).
    func identity(bearer: String?, session: String?) -> WebIdentity? {
        if let bearer, let name = tokens.name(for: bearer) { return WebIdentity(name: name, bearer: true) }
        guard tokens.configured else { return WebIdentity(name: "loopback") }
        if let session, sessions.validate(session) { return WebIdentity(name: "session") }
        return nil
    }

    func login(_ request: DashboardRequest) throws -> DashboardResponse {
        let pages = Pages(app: self)
        guard tokens.configured else { return .redirect("/") }
        if request.method == "POST" {
            let client = request.remoteAddress ?? "unknown"
            // Checked before the token, so that a guesser over the limit learns nothing, even from a right guess.
            if let wait = loginThrottle.wait(client: client) {
                var response = DashboardResponse.html(pages.error(status: 429, message: "too many sign-in attempts; try again in \(Int(wait)) s"), status: 429)
                response.headers.append(("Retry-After", "\(Int(wait))"))
                return response
            }
            guard tokens.name(for: request.formFields["token"] ?? "") != nil else {
                loginThrottle.recordFailure(client: client)
                return .html(pages.login(failed: true), status: 403)
            }
            loginThrottle.recordSuccess(client: client)
            let cookie = SessionCookie(value: sessions.open(), maxAge: Int(options.sessionLimits.absolute), secure: secureCookies(request))
            return .redirect("/", headers: [("Set-Cookie", cookie.headerValue)])
        }
        return .html(pages.login(failed: false))
    }

    /// `Secure` when started behind TLS, or when the proxy in front says the browser used HTTPS (marking a
    /// cookie Secure only ever narrows where it is sent, so trusting the header costs nothing).
    func secureCookies(_ request: DashboardRequest) -> Bool {
        options.behindTLS || request.header("X-Forwarded-Proto")?.lowercased() == "https"
    }

    // MARK: - Jobs

    func pageQuery(_ request: DashboardRequest) throws -> JobPageQuery {
        var q = JobPageQuery(limit: min(max(Int(request.query["limit"] ?? "") ?? 50, 1), 500))
        if let s = request.query["state"], !s.isEmpty {
            guard let state = JobState(rawValue: s) else { throw DashboardRequestError.badParameter("state", s) }
            q.state = state
        }
        if let search = request.query["q"], !search.isEmpty { q.search = search }
        if let b = request.query["before"], !b.isEmpty {
            guard let before = Int64(b) else { throw DashboardRequestError.badParameter("before", b) }
            q.before = before
        }
        return q
    }

    private func job(_ idText: String) async throws -> JobRecord {
        guard let id = Int64(idText) else { throw QueueError.noSuchJob(-1) }
        guard let job = try await queue.job(id: id) else { throw QueueError.noSuchJob(id) }
        return job
    }

    func jobPage(_ idText: String) async throws -> DashboardResponse {
        let job = try await job(idText)
        return .html(try await Pages(app: self).job(job, events: try await queue.events(jobID: job.id)))
    }

    /// A job's report or one of its pictures, found from the job, never from a path in the URL.
    func jobItem(_ request: DashboardRequest, id: String, item: String) async throws -> DashboardResponse {
        let job = try await job(id)
        let payload = try? job.decodedPayload()
        switch item {
        case "report":
            guard let output = payload?.output, let html = try? Data(contentsOf: ReportLocation.forOutput(output)) else {
                return .html(Pages(app: self).error(status: 404, message: "job \(job.id) has no report"), status: 404)
            }
            // The report is self-contained: inline styles and data: pictures, no script at all.
            return DashboardResponse(contentType: "text/html; charset=utf-8", body: Array(html), headers: [
                ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"),
            ])
        case "input.png", "output.png":
            let path = item == "input.png" ? payload?.input : payload?.output
            return try await picture(path.map { previews.firstFrame(of: URL(fileURLWithPath: $0), key: "\(job.id)/\(item)") })
        default:
            return .html(Pages(app: self).error(status: 404, message: "no page at \(request.path)"), status: 404)
        }
    }

    func stripFrame(id: String, frame: String) async throws -> DashboardResponse {
        let job = try await job(id)
        guard frame.hasSuffix(".png"), let k = Int(frame.dropLast(4)), (0..<MediaPreviews.stripLength).contains(k),
              let output = (try? job.decodedPayload())?.output else { return .text("not found\n", status: 404) }
        return try await picture(previews.stripFrame(of: URL(fileURLWithPath: output), index: k, key: "\(job.id)/strip"))
    }

    private func picture(_ make: (() async throws -> Data?)?) async throws -> DashboardResponse {
        guard let make else { return .text("no picture\n", status: 404) }
        do {
            guard let png = try await make() else { return .text("no picture\n", status: 404) }
            return DashboardResponse(contentType: "image/png", body: Array(png))
        } catch PreviewError.busy {
            return DashboardResponse(status: 503, contentType: "text/plain; charset=utf-8", body: Array("\(PreviewError.busy)\n".utf8),
                                     headers: [("Retry-After", "1")])
        } catch {
            return .text("no picture: \(error)\n", status: 404)
        }
    }

    func action(_ request: DashboardRequest, id: String, name: String) async throws -> DashboardResponse {
        guard !options.readOnly else { return .html(Pages(app: self).error(status: 403, message: "this dashboard is read-only"), status: 403) }
        guard SessionStore.equal(request.formFields["csrf"] ?? "", csrfToken) else {
            return .html(Pages(app: self).error(status: 403, message: "the form's CSRF token is missing or stale; reload the page"), status: 403)
        }
        let job = try await job(id)
        switch name {
        case "retry": _ = try await queue.retry(id: job.id)
        case "cancel": _ = try await queue.cancel(id: job.id)
        case "requeue":
            let priority = Int(request.formFields["priority"] ?? "") ?? (job.priority + 10)
            _ = try await queue.requeue(id: job.id, priority: priority)
        default: return .html(Pages(app: self).error(status: 404, message: "no action \(name)"), status: 404)
        }
        return .redirect("/jobs/\(job.id)")
    }

    // MARK: - API

    func status() async throws -> QueueStatusView {
        let counts = try await queue.counts()
        let running = try await queue.page(JobPageQuery(state: .running, limit: 1000)).jobs
        return QueueStatusView(queue: queue.displayLocation,
                               counts: Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0.rawValue, counts[$0] ?? 0) }),
                               running: running.reversed().map(JobView.init), waitingRetry: try await queue.waitingRetryCount())
    }

    func overview() async throws -> OverviewView {
        let status = try await status()
        let hourAgo = Date().addingTimeInterval(-3600)
        var running: [OverviewView.Running] = []
        for job in status.running {
            let claimed = try await queue.events(jobID: job.id).last { $0.kind == .claimed }?.at
            running.append(OverviewView.Running(job: job, since: claimed))
        }
        return OverviewView(status: status, throughput: try await queue.throughput(since: hourAgo),
                            workers: try await queue.workers(since: hourAgo),
                            failures: try await queue.recentFailures(limit: 10).map(JobView.init), running: running,
                            readOnly: options.readOnly)
    }
}

public enum DashboardRequestError: Error, CustomStringConvertible {
    case badParameter(String, String)
    public var description: String {
        switch self {
        case let .badParameter(name, value): return "bad value for \(name): '\(value)'"
        }
    }
}

public enum DashboardError: Error, CustomStringConvertible {
    case tokenRequired(host: String)
    public var description: String {
        switch self {
        case .tokenRequired(let host):
            return "\(host) is not a loopback address: anyone who can reach it could steer the queue; give --token or --token-file (or use --host 127.0.0.1)"
        }
    }
}
