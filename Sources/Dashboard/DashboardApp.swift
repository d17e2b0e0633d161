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

    public init(host: String = "127.0.0.1", token: String? = nil, readOnly: Bool = false, refreshSeconds: Double = 2,
                behindTLS: Bool = false, sessionLimits: SessionStore.Limits = SessionStore.Limits()) {
        self.host = host; self.token = token; self.readOnly = readOnly; self.refreshSeconds = refreshSeconds
        self.behindTLS = behindTLS; self.sessionLimits = sessionLimits
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
    let loginThrottle = LoginThrottle()
    let previews = MediaPreviews()

    public init(queue: any QueueBrowsing, options: DashboardOptions) throws {
        if options.token == nil && !Self.isLoopback(options.host) { throw DashboardError.tokenRequired(host: options.host) }
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

    public func handle(_ request: DashboardRequest) async -> DashboardResponse {
        do {
            return try await route(request)
        } catch let error as QueueError {
            let status: Int
            switch error {
            case .noSuchJob: status = 404
            case .notCancellable, .notRetryable: status = 409
            case .searchTooShort: status = 400
            default: status = 500
            }
            return errorResponse(request, status: status, message: error.description)
        } catch let error as DashboardRequestError {
            return errorResponse(request, status: 400, message: error.description)
        } catch {
            return errorResponse(request, status: 500, message: "\(error)")
        }
    }

    private func errorResponse(_ request: DashboardRequest, status: Int, message: String) -> DashboardResponse {
        if request.path.hasPrefix("/api/") {
            let body = (try? APIJSON.encode(["error": message])) ?? Data()
            return .json(body, status: status)
        }
        return .html(Pages(app: self).error(status: status, message: message), status: status)
    }

    private func route(_ request: DashboardRequest) async throws -> DashboardResponse {
        // Without a token the server answers only to loopback names: a page elsewhere that rebinds its own
        // host name to 127.0.0.1 (DNS rebinding) still sends its own name as Host, and is turned away.
        if options.token == nil {
            guard LoopbackHost.isLoopbackHostHeader(request.header("Host") ?? "") else { return .text("this dashboard answers only to loopback host names\n", status: 421) }
        }
        let parts = request.path.split(separator: "/").map(String.init)
        if request.method == "GET", parts.count == 2, parts[0] == "static" {
            return StaticAssets.response(parts[1]) ?? .text("not found\n", status: 404)
        }
        if parts == ["login"] { return try login(request) }
        guard authorised(request) else {
            if request.path.hasPrefix("/api/") {
                return .json(try APIJSON.encode(["error": "unauthorised: send Authorization: Bearer TOKEN"]), status: 401)
            }
            return .redirect("/login")
        }
        let pages = Pages(app: self)
        switch (request.method, parts.first, parts.count) {
        case ("GET", nil, _): return .html(try await pages.overview())
        case ("GET", "jobs", 1): return .html(try await pages.jobs(try pageQuery(request)))
        case ("GET", "jobs", _): return try await jobRoute(request, parts: parts, pages: pages)
        case ("POST", "jobs", 3): return try await action(request, parts: parts)
        case ("GET", "api", _): return try await api(request, parts: Array(parts.dropFirst()))
        default: return .html(pages.error(status: 404, message: "no page at \(request.path)"), status: 404)
        }
    }

    // MARK: - Authentication

    func authorised(_ request: DashboardRequest) -> Bool {
        guard let token = options.token else { return true }
        if let auth = request.header("Authorization"), auth.hasPrefix("Bearer "),
           SessionStore.equal(String(auth.dropFirst(7)), token) { return true }
        if let session = request.cookies[SessionStore.cookieName], sessions.validate(session) { return true }
        return false
    }

    private func login(_ request: DashboardRequest) throws -> DashboardResponse {
        let pages = Pages(app: self)
        guard let token = options.token else { return .redirect("/") }
        if request.method == "POST" {
            let client = request.remoteAddress ?? "unknown"
            // Checked before the token, so that a guesser over the limit learns nothing, even from a right guess.
            if let wait = loginThrottle.wait(client: client) {
                var response = DashboardResponse.html(pages.error(status: 429, message: "too many sign-in attempts; try again in \(Int(wait)) s"), status: 429)
                response.headers.append(("Retry-After", "\(Int(wait))"))
                return response
            }
            guard SessionStore.equal(request.formFields["token"] ?? "", token) else {
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

    private func jobRoute(_ request: DashboardRequest, parts: [String], pages: Pages) async throws -> DashboardResponse {
        let job = try await job(parts[1])
        let payload = try? job.decodedPayload()
        switch parts.count {
        case 2:
            return .html(try await pages.job(job, events: try await queue.events(jobID: job.id)))
        case 3 where parts[2] == "report":
            guard let output = payload?.output, let html = try? Data(contentsOf: ReportLocation.forOutput(output)) else {
                return .html(pages.error(status: 404, message: "job \(job.id) has no report"), status: 404)
            }
            // The report is self-contained: inline styles and data: pictures, no script at all.
            return DashboardResponse(contentType: "text/html; charset=utf-8", body: Array(html), headers: [
                ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"),
            ])
        case 3 where parts[2] == "input.png" || parts[2] == "output.png":
            let path = parts[2] == "input.png" ? payload?.input : payload?.output
            return try await picture(path.map { previews.firstFrame(of: URL(fileURLWithPath: $0), key: "\(job.id)/\(parts[2])") })
        case 4 where parts[2] == "strip":
            guard let k = Int(parts[3].replacingOccurrences(of: ".png", with: "")), (0..<MediaPreviews.stripLength).contains(k),
                  let output = payload?.output else { return .text("not found\n", status: 404) }
            return try await picture(previews.stripFrame(of: URL(fileURLWithPath: output), index: k, key: "\(job.id)/strip"))
        default:
            return .html(pages.error(status: 404, message: "no page at \(request.path)"), status: 404)
        }
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

    private func action(_ request: DashboardRequest, parts: [String]) async throws -> DashboardResponse {
        guard !options.readOnly else { return .html(Pages(app: self).error(status: 403, message: "this dashboard is read-only"), status: 403) }
        guard SessionStore.equal(request.formFields["csrf"] ?? "", csrfToken) else {
            return .html(Pages(app: self).error(status: 403, message: "the form's CSRF token is missing or stale; reload the page"), status: 403)
        }
        let job = try await job(parts[1])
        switch parts[2] {
        case "retry": _ = try await queue.retry(id: job.id)
        case "cancel": _ = try await queue.cancel(id: job.id)
        case "requeue":
            let priority = Int(request.formFields["priority"] ?? "") ?? (job.priority + 10)
            _ = try await queue.requeue(id: job.id, priority: priority)
        default: return .html(Pages(app: self).error(status: 404, message: "no action \(parts[2])"), status: 404)
        }
        return .redirect("/jobs/\(job.id)")
    }

    // MARK: - API

    private func api(_ request: DashboardRequest, parts: [String]) async throws -> DashboardResponse {
        switch parts.count {
        case 1 where parts[0] == "status": return .json(try APIJSON.encode(try await status()))
        case 1 where parts[0] == "overview": return .json(try APIJSON.encode(try await overview()))
        case 1 where parts[0] == "jobs":
            let page = try await queue.page(try pageQuery(request))
            var response = DashboardResponse.json(try APIJSON.encode(page.jobs.map(JobView.init)))
            if let next = page.nextBefore { response.headers.append(("X-Next-Before", "\(next)")) }
            return response
        case 2 where parts[0] == "jobs":
            let job = try await job(parts[1])
            return .json(try APIJSON.encode(JobDetailView(job, events: try await queue.events(jobID: job.id))))
        default:
            return .json(try APIJSON.encode(["error": "no API at \(request.path)"]), status: 404)
        }
    }

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
