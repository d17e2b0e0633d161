import Foundation
import XCTest

/// Opens a page in Debian's headless Chromium without DevTools: `--dump-dom` prints the DOM once the page has
/// loaded, and `--enable-logging=stderr --v=0` writes every console message (console.error, uncaught exceptions,
/// CSP violations) to stderr as `…:CONSOLE:N] "text", source: URL (line)`.
public enum ChromiumConsole {
    public struct Load {
        public var dom: String
        /// The console messages, one per line of the log.
        public var console: [String]
    }

    public static func load(_ url: URL, timeout: TimeInterval = 60) throws -> Load {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("dom.html"), err = folder.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try HeadlessChromium.executable())
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--user-data-dir=\(folder.appendingPathComponent("profile").path)",
                             "--enable-logging=stderr", "--v=0", "--dump-dom", url.absoluteString]
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw HeadlessChromium.Failure(description: "Chromium did not finish loading \(url.path) in \(Int(timeout)) s")
        }
        let log = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        return Load(dom: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                    console: log.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init))
    }
}
