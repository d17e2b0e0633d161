import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Jobs
import Logging

/// Sends the webhooks the queue owes (`WebhookLedger`), from a worker: the job's record in the CLI's `jobs show
/// --json` shape, signed (`WebhookSignature`), to allowed hosts only, retried with exponential backoff until the
/// receiver answers 2xx. Owed deliveries live in the queue, so what a killed worker did not send, another sends.
public final class WebhookSender: Sendable {
    public struct Options: Sendable {
        /// The first line of `--webhook-secret-file`.
        public var secret: [UInt8]
        public var hosts: WebhookHosts
        public var worker: String
        /// Seconds before the second attempt; doubles with each failure, up to `maxBackoff`.
        public var firstBackoff: TimeInterval = 5
        public var maxBackoff: TimeInterval = 3600
        public var timeout: TimeInterval = 10
        public var pollInterval: TimeInterval = 1
        public init(secret: [UInt8], hosts: WebhookHosts, worker: String) {
            self.secret = secret; self.hosts = hosts; self.worker = worker
        }
    }

    let queue: any JobQueue
    let ledger: any WebhookLedger
    let options: Options
    let logger: Logger

    public init?(queue: any JobQueue, options: Options, logger: Logger) {
        guard let ledger = queue as? any WebhookLedger else { return nil }
        self.queue = queue; self.ledger = ledger; self.options = options; self.logger = logger
    }

    /// Reads the secret: the file's first line, which must not be empty.
    public static func secret(fromFile path: String) throws -> [UInt8] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let line = text.split(separator: "\n", omittingEmptySubsequences: false).first?.trimmingCharacters(in: .whitespacesAndNewlines),
              !line.isEmpty else { throw WebhookSenderError.secretUnreadable(path) }
        return Array(line.utf8)
    }

    /// Delivers owed webhooks until `stop` is raised.
    public func run(stop: StopSignal) async {
        while stop.level == .none && !Task.isCancelled {
            do {
                if try await deliverOne() { continue }
            } catch {
                logger.warning("webhook delivery", metadata: ["error": "\(error)"])
            }
            await stop.sleep(options.pollInterval)
        }
    }

    /// Claims and tries one owed delivery; false when none was due.
    public func deliverOne() async throws -> Bool {
        // The lease covers the request and its timeout; a worker that dies mid-request leaves it to another.
        guard let owed = try await ledger.claimWebhook(worker: options.worker, lease: options.timeout * 3) else { return false }
        var status: Int?
        var failure: String?
        if let url = URL(string: owed.url), options.hosts.allows(url) {
            do {
                status = try await post(to: url, body: try body(for: owed))
            } catch {
                failure = "\(error)"
            }
        } else {
            failure = "\(URL(string: owed.url)?.host ?? owed.url) is not in --webhook-hosts"
        }
        let delivered = status.map { (200..<300).contains($0) } ?? false
        let backoff = min(options.maxBackoff, options.firstBackoff * pow(2, Double(owed.attempts)))
        _ = try await ledger.recordWebhookAttempt(owed, worker: options.worker, status: status, error: failure,
                                                  delivered: delivered, retryAfter: backoff)
        logger.info("webhook", metadata: ["job": "\(owed.jobID)", "outcome": "\(owed.outcome)", "status": "\(status.map(String.init) ?? failure ?? "")"])
        return true
    }

    func body(for owed: OwedWebhook) async throws -> Data {
        guard let job = try await queue.job(id: owed.jobID) else { throw QueueError.noSuchJob(owed.jobID) }
        return try APIJSON.encode(JobDetailView(job, events: try await queue.events(jobID: job.id)))
    }

    func post(to url: URL, body: Data) async throws -> Int {
        var request = URLRequest(url: url, timeoutInterval: options.timeout)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("avatarize", forHTTPHeaderField: "User-Agent")
        let signature = WebhookSignature.sign(body: Array(body), secret: options.secret, timestamp: Int64(Date().timeIntervalSince1970))
        request.setValue(signature.headerValue, forHTTPHeaderField: WebhookSignature.headerName)
        let session = URLSession(configuration: .ephemeral, delegate: RefuseRedirects(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let (_, response) = try await session.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}

/// A redirect would send the signed record to a host nobody allowed: answered as the 3xx it is.
final class RefuseRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

public enum WebhookSenderError: Error, CustomStringConvertible {
    case secretUnreadable(String)
    public var description: String {
        switch self {
        case .secretUnreadable(let path): return "cannot read a webhook secret from the first line of \(path)"
        }
    }
}
