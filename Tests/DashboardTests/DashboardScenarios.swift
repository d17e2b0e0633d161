import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import XCTest
@testable import Dashboard
@testable import Jobs

/// The dashboard over a seeded queue, in real headless Chromium: counts and rows, a retry clicked on the page
/// that changes the database, hostile names shown as text, and the security rules. Each backend runs these.
class DashboardScenarios: XCTestCase {
    /// A fresh queue URL; subclasses choose the backend.
    func makeQueueURL() throws -> String { throw XCTSkip("abstract") }
    var secrets: [String] { [] }

    var folder: URL!
    var queue: (any QueueBrowsing)!
    var server: WebServer?
    var base = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-dashboard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        await server?.close()
        try? await queue?.close()
        try? FileManager.default.removeItem(at: folder)
    }

    func start(_ options: DashboardOptions = DashboardOptions()) async throws -> SeededQueue.Seeded {
        let opened = try await QueueOpener.open(try QueueLocation.parse(try makeQueueURL()))
        queue = try XCTUnwrap(opened as? any QueueBrowsing)
        let seeded = try await SeededQueue.seed(queue)
        let app = try DashboardApp(queue: queue, options: options)
        server = try await WebServer(app: app, host: "127.0.0.1", port: 0)
        base = "http://127.0.0.1:\(server!.port)"
        return seeded
    }

    func overviewAndJobsTableShowTheQueue() async throws {
        let seeded = try await start()
        let browser = try HeadlessChromium()
        try browser.open(base + "/")
        for (state, n) in seeded.counts {
            let shown = try browser.evaluate("document.querySelector('[data-field=\"count-\(state.rawValue)\"]').textContent") as? String
            XCTAssertEqual(shown, "\(n)", state.rawValue)
        }
        let running = try browser.evaluate("Array.from(document.querySelectorAll('#running tbody tr')).map(r => r.cells[0].textContent + ' ' + r.cells[2].textContent)") as? [String]
        XCTAssertEqual(running, ["#\(seeded.running) worker-b"])
        let progress = try browser.evaluate("document.querySelector('#running .bar > span').style.width") as? String
        XCTAssertEqual(progress, "25%")
        let workers = try browser.evaluate("Array.from(document.querySelectorAll('#workers tbody tr')).map(r => r.cells[0].textContent).sort()") as? [String]
        XCTAssertEqual(workers, ["worker-a", "worker-b"])
        let failures = try browser.evaluate("document.querySelector('#failures tbody').textContent") as? String ?? ""
        XCTAssertTrue(failures.contains("decoder said <no frames>"), failures)

        try browser.open(base + "/jobs")
        let ids = try browser.evaluate("Array.from(document.querySelectorAll('#jobs tbody tr')).map(r => Number(r.dataset.job))") as? [Int]
        XCTAssertEqual(ids?.count, seeded.total)
        XCTAssertEqual(ids, ids?.sorted(by: >), "newest first")
        try browser.open(base + "/jobs?state=dead")
        let dead = try browser.evaluate("Array.from(document.querySelectorAll('#jobs tbody tr')).map(r => Number(r.dataset.job))") as? [Int]
        XCTAssertEqual(dead, [Int(seeded.dead)])
        try browser.open(base + "/jobs?q=clip-4")
        let found = try browser.evaluate("Array.from(document.querySelectorAll('#jobs tbody tr')).map(r => r.cells[2].textContent)") as? [String]
        XCTAssertEqual(found, ["clip-4.mp4"])
        try browser.open(base + "/jobs?limit=3")
        let firstPage = try browser.evaluate("document.querySelectorAll('#jobs tbody tr').length") as? Int
        XCTAssertEqual(firstPage, 3)
        try browser.evaluate("document.querySelector('a[rel=next]').click()")
        try browser.waitFor("the next page") { (try browser.evaluate("location.search") as? String ?? "").contains("before=") }
        try browser.waitFor("the next page's rows") { (try browser.evaluate("document.readyState") as? String) == "complete" }
        try browser.open(base + "/jobs/\(seeded.succeeded)")
        let identity = try browser.evaluate("['compared', 'mean', 'p10', 'share', 'avatar-missing'].map(f => document.querySelector('[data-field=identity-' + f + ']').textContent)") as? [String]
        XCTAssertEqual(identity, ["36 of 40 frames", "0.913", "0.871", "75 %", "3 frames"])
        XCTAssertEqual(browser.problems, [], "the pages must load without console errors")
    }

    func retryClickedOnThePageRequeuesTheJob() async throws {
        let seeded = try await start()
        let browser = try HeadlessChromium()
        try browser.open(base + "/jobs/\(seeded.dead)")
        XCTAssertEqual(try browser.evaluate("document.querySelector('h1 .state').textContent") as? String, "dead")
        try browser.evaluate("document.querySelector('button[name=retry]').click()")
        try browser.waitFor("the job page after the retry") {
            (try? browser.evaluate("document.querySelector('h1 .state') && document.querySelector('h1 .state').textContent") as? String) == "queued"
        }
        let job = try await queue.job(id: seeded.dead)
        XCTAssertEqual(job?.state, .queued, "the click must change the database")
        let events = try await queue.events(jobID: seeded.dead)
        XCTAssertEqual(events.last?.kind, .requeued)

        // Re-queue at a higher priority, then cancel, from the same page.
        try browser.evaluate("document.querySelector('button[name=requeue]').click()")
        try await waitForDatabase { try await self.queue.job(id: seeded.dead)?.priority == 10 }
        try browser.waitFor("the page after the re-queue") { (try browser.evaluate("document.querySelector('button[name=cancel]') !== null") as? Bool) == true }
        try browser.evaluate("document.querySelector('button[name=cancel]').click()")
        try await waitForDatabase { try await self.queue.job(id: seeded.dead)?.state == .cancelled }
        XCTAssertEqual(browser.problems, [])
    }

    func waitForDatabase(_ condition: @escaping () async throws -> Bool) async throws {
        for _ in 0..<200 {
            if try await condition() { return }
            try await Task.sleep(nanoseconds: 25_000_000)
        }
        XCTFail("the database did not change")
    }

    func hostileFileNameIsShownAsText() async throws {
        let seeded = try await start()
        let browser = try HeadlessChromium()
        for path in ["/jobs", "/jobs/\(seeded.hostile)"] {
            try browser.open(base + path)
            XCTAssertEqual(try browser.evaluate("document.title") as? String, path == "/jobs" ? "Jobs · avatarize" : "Job \(seeded.hostile) · avatarize")
            XCTAssertEqual(try browser.evaluate("document.querySelectorAll('script').length") as? Int, 1, "only the dashboard's own script")
            XCTAssertEqual(try browser.evaluate("document.querySelectorAll('img[src=x]').length") as? Int, 0)
            let text = try browser.evaluate("document.body.textContent") as? String ?? ""
            XCTAssertTrue(text.contains(SeededQueue.hostileName), "the name must appear as text on \(path)")
        }
        XCTAssertEqual(browser.problems, [])
    }

    func actionsNeedTheCSRFTokenAndAreAbsentWhenReadOnly() async throws {
        let seeded = try await start(DashboardOptions(readOnly: true))
        let browser = try HeadlessChromium()
        try browser.open(base + "/jobs/\(seeded.dead)")
        XCTAssertEqual(try browser.evaluate("document.querySelectorAll('form[method=post]').length") as? Int, 0)
        let (status, _) = try await post("/jobs/\(seeded.dead)/retry", body: "csrf=whatever")
        XCTAssertEqual(status, 403)
        let job = try await queue.job(id: seeded.dead)
        XCTAssertEqual(job?.state, .dead)
    }

    func forgedPostWithoutTheTokenChangesNothing() async throws {
        let seeded = try await start()
        let (status, _) = try await post("/jobs/\(seeded.dead)/retry", body: "")
        XCTAssertEqual(status, 403)
        let (wrong, _) = try await post("/jobs/\(seeded.dead)/retry", body: "csrf=0123")
        XCTAssertEqual(wrong, 403)
        let job = try await queue.job(id: seeded.dead)
        XCTAssertEqual(job?.state, .dead)
    }

    func apiServesTheCLIShapes() async throws {
        let seeded = try await start()
        let (status, detail) = try await get("/api/jobs/\(seeded.dead)")
        XCTAssertEqual(status, 200)
        let cli = try ProcessRunner.run(try AvatarizeExecutable.path(), ["jobs", "show", "\(seeded.dead)", "--json", "--queue", try queueURLForCLI()])
        XCTAssertEqual(cli.status, 0, cli.stderr)
        XCTAssertEqual(detail.trimmingCharacters(in: .whitespacesAndNewlines), cli.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        // A finished avatar job's identity figure is in its detail, the same in both.
        let (_, finished) = try await get("/api/jobs/\(seeded.succeeded)")
        let cliFinished = try ProcessRunner.run(try AvatarizeExecutable.path(), ["jobs", "show", "\(seeded.succeeded)", "--json", "--queue", try queueURLForCLI()])
        XCTAssertEqual(finished.trimmingCharacters(in: .whitespacesAndNewlines), cliFinished.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        XCTAssertEqual(try decoder.decode(JobDetailView.self, from: Data(finished.utf8)).identity, SeededQueue.identity)
        XCTAssertNil(try decoder.decode(JobDetailView.self, from: Data(detail.utf8)).identity, "a dead job has no identity figure")
        XCTAssertEqual(try decoder.decode(JobDetailView.self, from: Data(finished.utf8)).job.precision, "fp32", "the precision that made the output")
        XCTAssertNil(try decoder.decode(JobDetailView.self, from: Data(detail.utf8)).job.precision)
        let (_, list) = try await get("/api/jobs?state=queued")
        let jobs = try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]]
        XCTAssertEqual(jobs?.count, 3)
        // The CLI lists oldest first, the API newest first (keyset pages); otherwise the same objects.
        let cliList = try ProcessRunner.run(try AvatarizeExecutable.path(), ["jobs", "list", "--state", "queued", "--json", "--queue", try queueURLForCLI()])
        let cliJobs = try JSONSerialization.jsonObject(with: Data(cliList.stdout.utf8)) as? [[String: Any]]
        func canonical(_ list: [[String: Any]]?) throws -> [Data] {
            try (list ?? []).map { try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
        }
        XCTAssertEqual(try canonical(jobs?.reversed()), try canonical(cliJobs))
        let (_, statusJSON) = try await get("/api/status")
        let cliStatus = try ProcessRunner.run(try AvatarizeExecutable.path(), ["status", "--json", "--queue", try queueURLForCLI()])
        XCTAssertEqual(statusJSON.trimmingCharacters(in: .whitespacesAndNewlines), cliStatus.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        for secret in secrets {
            XCTAssertFalse(statusJSON.contains(secret), "the database password must never be shown")
            let (_, page) = try await get("/")
            XCTAssertFalse(page.contains(secret))
        }
    }

    /// The URL the test queue was opened with (kept for the CLI comparison).
    var lastQueueURL = ""
    func queueURLForCLI() throws -> String { lastQueueURL }

    func tokenGuardsEverythingOffLoopback() async throws {
        _ = try await start(DashboardOptions(host: "0.0.0.0", token: "s3cret-token"))
        let unguarded: any QueueBrowsing = queue
        XCTAssertThrowsError(try DashboardApp(queue: unguarded, options: DashboardOptions(host: "0.0.0.0")), "a public address needs a token")
        XCTAssertNoThrow(try DashboardApp(queue: unguarded, options: DashboardOptions(host: "::1")))
        let (denied, _) = try await get("/api/status")
        XCTAssertEqual(denied, 401)
        let (allowed, _) = try await get("/api/status", headers: ["Authorization": "Bearer s3cret-token"])
        XCTAssertEqual(allowed, 200)
        // A browser: sent to the login form, signs in, and gets the overview with a cookie.
        let browser = try HeadlessChromium()
        try browser.open(base + "/")
        XCTAssertEqual(try browser.evaluate("location.pathname") as? String, "/login")
        try browser.evaluate("document.querySelector('input[name=token]').value = 's3cret-token'; document.querySelector('form').submit()")
        try browser.waitFor("the overview after signing in") { (try? browser.evaluate("location.pathname + (document.querySelector('.cards') ? '+' : '')") as? String) == "/+" }
    }

    func picturesComeOnlyFromJobsInTheQueue() async throws {
        _ = try await start()
        let (traversal, _) = try await get("/jobs/..%2F..%2Fetc%2Fpasswd/input.png")
        XCTAssertEqual(traversal, 404)
        let (missing, _) = try await get("/jobs/999999/input.png")
        XCTAssertEqual(missing, 404)
        let (hostRebinding, _) = try await get("/", headers: ["Host": "evil.example:80"])
        XCTAssertEqual(hostRebinding, 421)
    }

    func hostileHostNamesAreRefusedWithoutAToken() async throws {
        _ = try await start()
        for host in ["127.0.0.1.attacker.tld", "127.0.0.1.attacker.tld:8080", "127.evil.com", "localhost.evil.com", "[::1].evil.com"] {
            let (status, _) = try await get("/api/status", headers: ["Host": host])
            XCTAssertEqual(status, 421, host)
        }
        for host in ["127.0.0.2:1234", "[::1]:80", "localhost", "localhost:8080"] {
            let (status, _) = try await get("/api/status", headers: ["Host": host])
            XCTAssertEqual(status, 200, host)
        }
        XCTAssertThrowsError(try DashboardApp(queue: queue, options: DashboardOptions(host: "127.example.com")),
                             "a name that only starts like a loopback address needs a token")
    }

    func signInIsThrottledAndItsSessionExpires() async throws {
        _ = try await start(DashboardOptions(host: "0.0.0.0", token: "s3cret-token", sessionLimits: .init(idle: 1.5, absolute: 3600)))
        let (signedIn, headers) = try await exchange("POST", "/login", body: "token=s3cret-token",
                                                    headers: ["Content-Type": "application/x-www-form-urlencoded"])
        XCTAssertEqual(signedIn, 303)
        let cookie = try XCTUnwrap(headers["set-cookie"])
        XCTAssertTrue(cookie.hasPrefix("avatarize_session="), cookie)
        for attribute in ["Max-Age=3600", "HttpOnly", "SameSite=Strict"] { XCTAssertTrue(cookie.contains("; \(attribute)"), cookie) }
        XCTAssertFalse(cookie.contains("Secure"), "plain HTTP: " + cookie)
        let (_, viaTLS) = try await exchange("POST", "/login", body: "token=s3cret-token",
                                            headers: ["Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-Proto": "https"])
        XCTAssertTrue(viaTLS["set-cookie"]?.hasSuffix("; Secure") == true, viaTLS["set-cookie"] ?? "none")

        // The session works, then ends after its idle time.
        let session = String(cookie.prefix { $0 != ";" })
        let (live, _) = try await get("/api/status", headers: ["Cookie": session])
        XCTAssertEqual(live, 200)
        try await Task.sleep(nanoseconds: 1_700_000_000)
        let (idle, _) = try await get("/api/status", headers: ["Cookie": session])
        XCTAssertEqual(idle, 401, "idle past its limit")

        // Five wrong tokens, then even the right one is turned away for a while.
        for _ in 0..<5 {
            let (wrong, _) = try await post("/login", body: "token=guess")
            XCTAssertEqual(wrong, 403)
        }
        let (throttled, throttledHeaders) = try await exchange("POST", "/login", body: "token=s3cret-token",
                                                              headers: ["Content-Type": "application/x-www-form-urlencoded"])
        XCTAssertEqual(throttled, 429)
        XCTAssertNotNil(throttledHeaders["retry-after"])
        XCTAssertNil(throttledHeaders["set-cookie"])
    }

    // MARK: - HTTP without a browser

    func get(_ path: String, headers: [String: String] = [:]) async throws -> (Int, String) {
        try await request("GET", path, body: nil, headers: headers)
    }

    func post(_ path: String, body: String) async throws -> (Int, String) {
        try await request("POST", path, body: body, headers: ["Content-Type": "application/x-www-form-urlencoded"])
    }

    func request(_ method: String, _ path: String, body: String?, headers: [String: String]) async throws -> (Int, String) {
        let (status, _, text) = try await full(method, path, body: body, headers: headers)
        return (status, text)
    }

    /// Status and response headers (names in lower case).
    func exchange(_ method: String, _ path: String, body: String?, headers: [String: String]) async throws -> (Int, [String: String]) {
        let (status, responseHeaders, _) = try await full(method, path, body: body, headers: headers)
        return (status, responseHeaders)
    }

    func full(_ method: String, _ path: String, body: String?, headers: [String: String]) async throws -> (Int, [String: String], String) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.httpBody = body.map { Data($0.utf8) }
        let config = URLSessionConfiguration.ephemeral
        config.httpShouldSetCookies = false
        let (data, response) = try await URLSession(configuration: config, delegate: NoRedirects(), delegateQueue: nil).data(for: request)
        let http = response as? HTTPURLResponse
        var responseHeaders: [String: String] = [:]
        for (k, v) in http?.allHeaderFields ?? [:] { if let k = k as? String, let v = v as? String { responseHeaders[k.lowercased()] = v } }
        return (http?.statusCode ?? 0, responseHeaders, String(decoding: data, as: UTF8.self))
    }
}

final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

/// Linux XCTest does not run test methods a subclass inherits, so each backend lists the scenarios it runs.
final class SQLiteDashboardTests: DashboardScenarios {
    func testUploadsAreStreamedToDiskHashedAndLimited() async throws { try await uploadsAreStreamedToDiskHashedAndLimited() }
    func testWebhookOwedByADeadWorkerIsDeliveredSignedWithRetries() async throws { try await webhookOwedByADeadWorkerIsDeliveredSignedWithRetries() }
    func testSubmittedJobsAreValidatedEnqueuedAndIdempotent() async throws { try await submittedJobsAreValidatedEnqueuedAndIdempotent() }
    func testInputsOutsideTheInputRootAreRefused() async throws { try await inputsOutsideTheInputRootAreRefused() }
    func testTokensAreReadFromTheirFileAndDeleteCancels() async throws { try await tokensAreReadFromTheirFileAndDeleteCancels() }
    func testWritesNeedABearerTokenEvenOnLoopback() async throws { try await writesNeedABearerTokenEvenOnLoopback() }
    func testOpenAPIDocumentDescribesEveryAPIRoute() async throws { try await openAPIDocumentDescribesEveryAPIRoute() }
    func testRequestsOutsideTheDocumentAreAnsweredInJSON() async throws { try await requestsOutsideTheDocumentAreAnsweredInJSON() }
    func testRacingRequestsUnderOneKeyEnqueueOneBody() async throws { try await racingRequestsUnderOneKeyEnqueueOneBody() }
    func testHostileHostNamesAreRefusedWithoutAToken() async throws { try await hostileHostNamesAreRefusedWithoutAToken() }
    func testSignInIsThrottledAndItsSessionExpires() async throws { try await signInIsThrottledAndItsSessionExpires() }
    func testOverviewAndJobsTableShowTheQueue() async throws { try await overviewAndJobsTableShowTheQueue() }
    func testRetryClickedOnThePageRequeuesTheJob() async throws { try await retryClickedOnThePageRequeuesTheJob() }
    func testHostileFileNameIsShownAsText() async throws { try await hostileFileNameIsShownAsText() }
    func testActionsNeedTheCSRFTokenAndAreAbsentWhenReadOnly() async throws { try await actionsNeedTheCSRFTokenAndAreAbsentWhenReadOnly() }
    func testForgedPostWithoutTheTokenChangesNothing() async throws { try await forgedPostWithoutTheTokenChangesNothing() }
    func testAPIServesTheCLIShapes() async throws { try await apiServesTheCLIShapes() }
    func testTokenGuardsEverythingOffLoopback() async throws { try await tokenGuardsEverythingOffLoopback() }
    func testPicturesComeOnlyFromJobsInTheQueue() async throws { try await picturesComeOnlyFromJobsInTheQueue() }
    override func makeQueueURL() throws -> String {
        lastQueueURL = "sqlite:\(folder.path)/queue.db"
        return lastQueueURL
    }
}

final class PostgresDashboardTests: DashboardScenarios {
    func testUploadsAreStreamedToDiskHashedAndLimited() async throws { try await uploadsAreStreamedToDiskHashedAndLimited() }
    func testWebhookOwedByADeadWorkerIsDeliveredSignedWithRetries() async throws { try await webhookOwedByADeadWorkerIsDeliveredSignedWithRetries() }
    func testSubmittedJobsAreValidatedEnqueuedAndIdempotent() async throws { try await submittedJobsAreValidatedEnqueuedAndIdempotent() }
    func testInputsOutsideTheInputRootAreRefused() async throws { try await inputsOutsideTheInputRootAreRefused() }
    func testTokensAreReadFromTheirFileAndDeleteCancels() async throws { try await tokensAreReadFromTheirFileAndDeleteCancels() }
    func testWritesNeedABearerTokenEvenOnLoopback() async throws { try await writesNeedABearerTokenEvenOnLoopback() }
    func testOpenAPIDocumentDescribesEveryAPIRoute() async throws { try await openAPIDocumentDescribesEveryAPIRoute() }
    func testRequestsOutsideTheDocumentAreAnsweredInJSON() async throws { try await requestsOutsideTheDocumentAreAnsweredInJSON() }
    func testRacingRequestsUnderOneKeyEnqueueOneBody() async throws { try await racingRequestsUnderOneKeyEnqueueOneBody() }
    func testHostileHostNamesAreRefusedWithoutAToken() async throws { try await hostileHostNamesAreRefusedWithoutAToken() }
    func testSignInIsThrottledAndItsSessionExpires() async throws { try await signInIsThrottledAndItsSessionExpires() }
    func testOverviewAndJobsTableShowTheQueue() async throws { try await overviewAndJobsTableShowTheQueue() }
    func testRetryClickedOnThePageRequeuesTheJob() async throws { try await retryClickedOnThePageRequeuesTheJob() }
    func testHostileFileNameIsShownAsText() async throws { try await hostileFileNameIsShownAsText() }
    func testActionsNeedTheCSRFTokenAndAreAbsentWhenReadOnly() async throws { try await actionsNeedTheCSRFTokenAndAreAbsentWhenReadOnly() }
    func testForgedPostWithoutTheTokenChangesNothing() async throws { try await forgedPostWithoutTheTokenChangesNothing() }
    func testAPIServesTheCLIShapes() async throws { try await apiServesTheCLIShapes() }
    func testTokenGuardsEverythingOffLoopback() async throws { try await tokenGuardsEverythingOffLoopback() }
    func testPicturesComeOnlyFromJobsInTheQueue() async throws { try await picturesComeOnlyFromJobsInTheQueue() }
    nonisolated(unsafe) private static var cluster: PostgresCluster?

    override class func tearDown() {
        cluster?.stop()
        cluster = nil
    }

    override func makeQueueURL() throws -> String {
        if Self.cluster == nil { Self.cluster = try PostgresCluster.start() }
        let cluster = try XCTUnwrap(Self.cluster)
        lastQueueURL = cluster.url(database: try cluster.createDatabase())
        return lastQueueURL
    }

    override var secrets: [String] { Self.cluster.map { [$0.password] } ?? [] }
}
