import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import TestSupport
import XCTest
@testable import Dashboard
@testable import Jobs

/// A receiver on loopback that fails a given number of times, then answers 204; it keeps what it was sent.
final class WebhookReceiver: @unchecked Sendable {
    struct Delivery { var signature: String?; var body: [UInt8] }
    private let lock = NSLock()
    private var received: [Delivery] = []
    private let failures: Int
    private(set) var port = 0
    private var services: ServiceGroup?
    private var task: Task<Void, any Error>?

    init(failFirst failures: Int) { self.failures = failures }

    var deliveries: [Delivery] { lock.withLock { received } }

    func start() async throws {
        let router = Router()
        router.post("/hook") { [self] request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let count = lock.withLock {
                let signature = request.headers.first { $0.name.canonicalName == WebhookSignature.headerName.lowercased() }?.value
                received.append(Delivery(signature: signature, body: Array(buffer: body)))
                return received.count
            }
            return Response(status: count <= failures ? .internalServerError : .noContent)
        }
        var logger = Logger(label: "receiver")
        logger.logLevel = .warning
        let (started, signal) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { signal.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        self.services = services
        task = Task { try await services.run() }
        var it = started.makeAsyncIterator()
        port = await it.next() ?? 0
    }

    func stop() async {
        await services?.triggerGracefulShutdown()
        _ = await task?.result
    }
}

extension DashboardScenarios {
    /// A job that finished on a worker that died before telling anyone: a new worker, started later, sends its
    /// signed record to a receiver that fails twice, backing off, and stops once the third attempt is acknowledged.
    func webhookOwedByADeadWorkerIsDeliveredSignedWithRetries() async throws {
        let receiver = WebhookReceiver(failFirst: 2)
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        let url = try makeQueueURL()
        let opened = try await QueueOpener.open(try QueueLocation.parse(url))
        queue = try XCTUnwrap(opened as? any QueueBrowsing)
        let hook = "http://127.0.0.1:\(receiver.port)/hook"
        let payload = try JobPayload(input: "/clips/a.mp4", output: "/out/a.mp4", outputRoot: "/out", clip: "a",
                                     settings: JobSettings(style: "sketch", edits: [:], smoothing: nil, camera: nil, layout: nil),
                                     webhook: hook).encoded()
        guard let id = try await queue.enqueue([JobSpec(key: "hooked", kind: "avatar", payload: payload)]).inserted.first else {
            return XCTFail("not enqueued")
        }
        // The first worker finishes the job and is gone: nothing but the queue knows a webhook is owed.
        _ = try await queue.claim(worker: "gone", lease: 60)
        _ = try await queue.complete(id: id, worker: "gone", progress: JobProgress(done: 10, total: 10)) {}
        XCTAssertTrue(receiver.deliveries.isEmpty)

        let secret = "whsec-\(UUID().uuidString)"
        let secretFile = folder.appendingPathComponent("webhook-secret")
        try "\(secret)\n".write(to: secretFile, atomically: true, encoding: .utf8)
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: try AvatarizeExecutable.path())
        worker.arguments = ["worker", "--queue", url, "--name", "hooks", "--poll-seconds", "0.1", "--webhook-secret-file", secretFile.path,
                            "--webhook-hosts", "127.0.0.1:\(receiver.port)", "--webhook-retry-seconds", "0.3"]
        let log = folder.appendingPathComponent("worker.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        worker.standardOutput = handle
        worker.standardError = handle
        try worker.run()
        defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }

        let deadline = Date().addingTimeInterval(30)
        while receiver.deliveries.count < 3 && Date() < deadline { try await Task.sleep(nanoseconds: 100_000_000) }
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let deliveries = receiver.deliveries
        let workerLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(deliveries.count, 3, "two failures, one success, nothing after: " + workerLog)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        for delivery in deliveries {
            let header = try XCTUnwrap(delivery.signature)
            XCTAssertTrue(WebhookSignature.verify(header: header, body: delivery.body, secret: Array(secret.utf8)), header)
            XCTAssertFalse(WebhookSignature.verify(header: header, body: delivery.body + [0x20], secret: Array(secret.utf8)), "tampered")
            let record = try decoder.decode(JobDetailView.self, from: Data(delivery.body))
            XCTAssertEqual(record.job.id, id)
            XCTAssertEqual(record.job.state, .succeeded)
        }
        let ledger = try XCTUnwrap(queue as? any WebhookLedger)
        let delivery = try await ledger.webhookDelivery(jobID: id)
        XCTAssertEqual(delivery?.attempts, 3)
        XCTAssertEqual(delivery?.lastStatus, 204)
        XCTAssertNotNil(delivery?.deliveredAt)
        // Each attempt is on the job's history, as jobs show prints it.
        let shown = try ProcessRunner.run(try AvatarizeExecutable.path(), ["jobs", "show", "\(id)", "--queue", url])
        XCTAssertEqual(shown.stdout.components(separatedBy: "webhook").count - 1 >= 3, true, shown.stdout)
        XCTAssertTrue(shown.stdout.contains("HTTP 500") && shown.stdout.contains("HTTP 204"), shown.stdout)

        worker.interrupt()
        worker.waitUntilExit()
        XCTAssertEqual(worker.terminationStatus, 0)
    }
}
