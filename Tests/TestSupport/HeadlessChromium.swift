import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Debian's Chromium, headless, driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: the
/// browser reads NUL-terminated JSON commands on fd 3 and writes answers and events on fd 4), so tests can
/// load pages, click, read the DOM, and collect console messages, exceptions and CSP violations.
public final class HeadlessChromium: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    private let pid: pid_t
    private let toBrowser: Int32
    private let fromBrowser: Int32
    private let profile: URL
    private let lock = NSLock()
    /// What the browser sent, filled by the reader thread. A box of its own, so that the thread does not hold the
    /// browser object: when a test lets go of it, `deinit` kills the browser (whose closed pipe ends the thread).
    private let inbox = Inbox()
    private var nextID = 0
    private var reader: Thread?
    private(set) var session = ""

    /// The browser's executable; CI installs it (scripts/install-deps.sh), so there its absence is a failure.
    public static func executable() throws -> String {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
                let path = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
        }
        let message = "Chromium is needed for the browser tests (Debian package chromium)"
        if ProcessInfo.processInfo.environment["CI"] != nil { throw Failure(description: message) }
        throw XCTSkip(message)
    }

    public init(windowSize: String = "1280,900") throws {
        let exe = try Self.executable()
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        var commands: [Int32] = [0, 0], events: [Int32] = [0, 0]
        guard pipe(&commands) == 0, pipe(&events) == 0 else { throw Failure(description: "pipe: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, commands[0], 3)
        posix_spawn_file_actions_adddup2(&actions, events[1], 4)
        let devnull = Glibc.open("/dev/null", O_WRONLY)
        posix_spawn_file_actions_adddup2(&actions, devnull, 1)
        posix_spawn_file_actions_adddup2(&actions, devnull, 2)
        let args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                    "--remote-debugging-pipe", "--user-data-dir=\(profile.path)", "--window-size=\(windowSize)",
                    "--hide-scrollbars", "about:blank"]
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child = pid_t()
        let rc = posix_spawn(&child, exe, &actions, nil, &argv, environ)
        close(devnull); close(commands[0]); close(events[1])
        guard rc == 0 else { throw Failure(description: "cannot start \(exe): \(String(cString: strerror(rc)))") }
        pid = child; toBrowser = commands[1]; fromBrowser = events[0]
        let thread = Thread { [inbox, fromBrowser] in Self.readLoop(fromBrowser, into: inbox) }
        thread.start()
        reader = thread
        // The page that is open at start, and a session on it.
        let targets = try call("Target.getTargets")
        let infos = (targets["targetInfos"] as? [[String: Any]]) ?? []
        guard let page = infos.first(where: { $0["type"] as? String == "page" })?["targetId"] as? String else {
            throw Failure(description: "Chromium has no page open")
        }
        let attached = try call("Target.attachToTarget", ["targetId": page, "flatten": true])
        session = attached["sessionId"] as? String ?? ""
        _ = try call("Runtime.enable", session: session)
        _ = try call("Log.enable", session: session)
        _ = try call("Page.enable", session: session)
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(toBrowser); close(fromBrowser)
        try? FileManager.default.removeItem(at: profile)
    }

    private final class Inbox: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: [[String: Any]] = []
        func append(_ m: [String: Any]) { lock.withLock { messages.append(m) } }
        func withLock<T>(_ body: ([[String: Any]]) -> T) -> T { lock.withLock { body(messages) } }
    }

    private static func readLoop(_ fd: Int32, into inbox: Inbox) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return }
            buffer += chunk[0..<n]
            while let end = buffer.firstIndex(of: 0) {
                let message = Data(buffer[..<end])
                buffer.removeSubrange(...end)
                if let object = try? JSONSerialization.jsonObject(with: message) as? [String: Any] {
                    inbox.append(object)
                }
            }
        }
    }

    /// Sends a command and waits (up to `timeout`) for its answer's `result`.
    @discardableResult
    public func call(_ method: String, _ params: [String: Any] = [:], session: String? = nil, timeout: Double = 30) throws -> [String: Any] {
        let id: Int = lock.withLock { nextID += 1; return nextID }
        var command: [String: Any] = ["id": id, "method": method, "params": params]
        if let session { command["sessionId"] = session }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: command))
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(toBrowser, $0.baseAddress!, $0.count) }
            guard n > 0 else { throw Failure(description: "Chromium closed its pipe") }
            written += n
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let answer = inbox.withLock({ $0.first { ($0["id"] as? Int) == id } }) {
                if let error = answer["error"] { throw Failure(description: "\(method): \(error)") }
                return answer["result"] as? [String: Any] ?? [:]
            }
            usleep(5_000)
        }
        throw Failure(description: "\(method): no answer in \(timeout) s")
    }

    /// Opens `url` and waits for its load event.
    public func open(_ url: String) throws {
        let before = inbox.withLock { $0.count }
        try call("Page.navigate", ["url": url], session: session)
        try waitFor("the load of \(url)") {
            self.inbox.withLock { $0[before...].contains { $0["method"] as? String == "Page.loadEventFired" } }
        }
    }

    /// Evaluates JavaScript in the page and returns its value (awaiting a promise).
    @discardableResult
    public func evaluate(_ expression: String) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true], session: session)
        if let exception = result["exceptionDetails"] { throw Failure(description: "\(expression): \(exception)") }
        return (result["result"] as? [String: Any])?["value"]
    }

    public func waitFor(_ what: String, timeout: Double = 20, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            usleep(20_000)
        }
        throw Failure(description: "timed out waiting for \(what)")
    }

    /// Console errors, uncaught exceptions, failed loads and CSP violations since the browser started.
    public var problems: [String] {
        inbox.withLock { messages in
            messages.compactMap { m -> String? in
                let params = m["params"] as? [String: Any] ?? [:]
                switch m["method"] as? String {
                case "Runtime.exceptionThrown":
                    let details = params["exceptionDetails"] as? [String: Any] ?? [:]
                    return "exception: \((details["exception"] as? [String: Any])?["description"] ?? details["text"] ?? "?")"
                case "Runtime.consoleAPICalled" where ["error", "assert"].contains(params["type"] as? String ?? ""):
                    return "console.error: \(params["args"] ?? "")"
                case "Log.entryAdded":
                    let entry = params["entry"] as? [String: Any] ?? [:]
                    return entry["level"] as? String == "error" ? "log: \(entry["text"] ?? "")" : nil
                default: return nil
                }
            }
        }
    }

    /// A PNG of the page (`full`: the whole page, not just the window).
    public func screenshot(to url: URL, full: Bool = true) throws {
        var params: [String: Any] = ["format": "png"]
        if full { params["captureBeyondViewport"] = true }
        if full, let metrics = try? call("Page.getLayoutMetrics", session: session),
           let size = metrics["cssContentSize"] as? [String: Any], let w = size["width"] as? Double, let h = size["height"] as? Double {
            params["clip"] = ["x": 0, "y": 0, "width": w, "height": h, "scale": 1]
        }
        let shot = try call("Page.captureScreenshot", params, session: session)
        guard let base64 = shot["data"] as? String, let data = Data(base64Encoded: base64) else { throw Failure(description: "no screenshot") }
        try data.write(to: url)
    }
}
