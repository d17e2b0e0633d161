import Foundation
import TestSupport
import XCTest
@testable import Jobs

/// A folder with clips, a job file and a queue, driven through the real `avatarize` executable the way a user
/// would: `enqueue`, then worker processes.
final class Batch {
    let directory: TemporaryDirectory
    let queueURL: String
    let backend: any QueueBackend
    let executable: String
    /// Added to the environment of every avatarize process this batch starts.
    var extraEnvironment: [String: String] = [:]

    init(backend: any QueueBackend, label: String) throws {
        self.backend = backend
        directory = try TemporaryDirectory(label)
        queueURL = try backend.makeQueueURL(in: directory)
        executable = try AvatarizeExecutable.path()
    }

    func url(_ relative: String) -> URL { directory.file(relative) }

    /// Runs an avatarize command to completion (from a different working folder than the job file's, so that
    /// path resolution against the job file's folder is exercised).
    func avatarize(_ arguments: [String]) throws -> ProcessRunner.Output {
        let output = try ProcessRunner.run(executable, arguments, environment: Self.environment.merging(extraEnvironment) { $1 },
                                           currentDirectory: URL(fileURLWithPath: NSTemporaryDirectory()))
        assertNoSecrets(output.stdout + output.stderr)
        return output
    }

    /// Starts a worker process; output goes to files in the batch folder, read back by `WorkerProcess.output`.
    /// `environment` is added to this worker's only (a "machine" of its own: its cache and temporary folder).
    func startWorker(_ extra: [String], environment: [String: String] = [:]) throws -> WorkerProcess {
        try WorkerProcess(executable: executable, arguments: ["worker", "--queue", queueURL] + extra, logFolder: directory.url,
                          environment: Self.environment.merging(extraEnvironment) { $1 }.merging(environment) { $1 })
    }

    func openQueue() async throws -> any JobQueue {
        try await backend.openQueue(queueURL)
    }

    func assertNoSecrets(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        for secret in backend.secrets {
            XCTAssertFalse(text.contains(secret), "a credential appeared in the output", file: file, line: line)
        }
    }

    /// Hidden per-job staging folders left anywhere under `relative`.
    func stagingLeftovers(under relative: String) -> [String] {
        let root = url(relative)
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { ($0 as NSString).lastPathComponent.hasPrefix(".avatarize-job-") }
    }

    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        // Tests pass --queue explicitly; an inherited DATABASE_URL must not redirect anything.
        environment.removeValue(forKey: "DATABASE_URL")
        // Likewise --work-dir: an inherited shared work folder must not join a test's workers to others.
        environment.removeValue(forKey: "AVATARIZE_WORK_DIR")
        environment["AVATARIZE_LOG"] = "info"
        return environment
    }
}

/// A running worker process.
final class WorkerProcess {
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL

    init(executable: String, arguments: [String], logFolder: URL, environment: [String: String]) throws {
        let tag = UUID().uuidString.prefix(8)
        stdoutURL = logFolder.appendingPathComponent("worker-\(tag).out")
        stderrURL = logFolder.appendingPathComponent("worker-\(tag).err")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for exit; kills the process and fails if it takes longer than `timeout`.
    @discardableResult
    func wait(timeout: TimeInterval, file: StaticString = #filePath, line: UInt = #line) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                XCTFail("worker \(pid) still running after \(timeout) s:\n\(output)", file: file, line: line)
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        return process.terminationStatus
    }

    var output: String {
        ((try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "") + ((try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "")
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
}
