import Foundation
import XCTest

/// A throwaway PostgreSQL cluster for the tests: `initdb` into a temporary folder, `pg_ctl start` on a free loopback
/// port with password (SCRAM) authentication, one fresh database per test, `pg_ctl stop` and removal at the end.
/// PostgreSQL refuses to run as root, so as root the server tools run as the `postgres` system user.
public final class PostgresCluster: @unchecked Sendable {
    public enum ClusterError: Error, CustomStringConvertible {
        case binariesMissing(String)
        case command(String, String)
        public var description: String {
            switch self {
            case .binariesMissing(let why): return why
            case .command(let what, let output): return "\(what) failed:\n\(output)"
            }
        }
    }

    public let folder: URL
    public let port: Int
    public let password: String
    private let binaries: URL
    private let runAs: String?

    /// Finds the server binaries: Debian's versioned folders first, then `pg_config --bindir`, then PATH.
    public static func locateBinaries() -> URL? {
        let debian = URL(fileURLWithPath: "/usr/lib/postgresql")
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: debian.path) {
            for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
                let bin = debian.appendingPathComponent(version).appendingPathComponent("bin")
                if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
            }
        }
        if let pgConfig = ProcessRunner.which("pg_config"),
           let output = try? ProcessRunner.run(pgConfig, ["--bindir"]), output.status == 0 {
            let bin = URL(fileURLWithPath: output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
        }
        if let initdb = ProcessRunner.which("initdb") { return URL(fileURLWithPath: initdb).deletingLastPathComponent() }
        return nil
    }

    /// Starts a cluster, or explains why it cannot. Without the binaries, CI (`CI` set) fails loudly because its
    /// setup installs them; a developer machine skips with a message.
    public static func start() throws -> PostgresCluster {
        guard let binaries = locateBinaries() else {
            let message = "PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's postgresql package"
            if ProcessInfo.processInfo.environment["CI"] != nil { throw ClusterError.binariesMissing(message) }
            throw XCTSkip(message + " to run the PostgreSQL queue tests")
        }
        return try PostgresCluster(binaries: binaries)
    }

    private init(binaries: URL) throws {
        self.binaries = binaries
        runAs = geteuid() == 0 ? "postgres" : nil
        password = "pw-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20)
        // As root the server runs as `postgres`, which must be able to reach the folder: a TMPDIR under /root would
        // not do, so use /tmp itself then.
        let base = runAs == nil ? NSTemporaryDirectory() : "/tmp"
        folder = URL(fileURLWithPath: base).appendingPathComponent("avatarize-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(password.utf8).write(to: folder.appendingPathComponent("pwfile"))
        if let runAs {
            try Self.check(ProcessRunner.run("/bin/chown", ["-R", "\(runAs):\(runAs)", folder.path]), "chown \(folder.path)")
        }
        port = try Self.freePort()
        let data = folder.appendingPathComponent("data").path
        try Self.check(run("initdb", ["-D", data, "-U", "postgres", "--pwfile", folder.appendingPathComponent("pwfile").path,
                                     "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"]), "initdb")
        try startServer()
    }

    /// `pg_ctl start` on the cluster's folder and port, waiting until it accepts connections.
    private func startServer() throws {
        let data = folder.appendingPathComponent("data").path
        let options = "-p \(port) -k \(folder.path) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            + "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB"
        let startLog = folder.appendingPathComponent("pg_ctl.log")
        let pgCtl = binaries.appendingPathComponent("pg_ctl").path
        let startArguments = ["-D", data, "-l", folder.appendingPathComponent("server.log").path, "-o", options,
                              "-w", "-t", "60", "start"]
        let status: Int32
        if let runAs {
            status = try ProcessRunner.runLeavingDaemon("/usr/sbin/runuser", ["-u", runAs, "--", pgCtl] + startArguments, log: startLog)
        } else {
            status = try ProcessRunner.runLeavingDaemon(pgCtl, startArguments, log: startLog)
        }
        guard status == 0 else {
            let log = (try? String(contentsOf: startLog, encoding: .utf8)) ?? ""
            let server = (try? String(contentsOf: folder.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
            throw ClusterError.command("pg_ctl start", log + server)
        }
    }

    /// Stops the server the way a crash or power loss would (`-m immediate`: no checkpoint, every connection cut),
    /// waits `down` seconds, and starts it again on the same port; the server recovers from its WAL.
    public func crashAndRestart(down: TimeInterval = 0.5) throws {
        try Self.check(run("pg_ctl", ["-D", folder.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"]), "pg_ctl stop")
        Thread.sleep(forTimeInterval: down)
        try startServer()
    }

    /// A new empty database; tests never share one.
    public func createDatabase() throws -> String {
        let name = "avz_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        try Self.check(run("psql", ["-h", folder.path, "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                                   "-c", "CREATE DATABASE \(name)"]), "CREATE DATABASE")
        return name
    }

    /// Connection URL over TCP with the password, as users would pass it.
    public func url(database: String) -> String {
        "postgres://postgres:\(password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    public func stop() {
        _ = try? run("pg_ctl", ["-D", folder.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: folder)
    }

    private func run(_ tool: String, _ arguments: [String]) throws -> ProcessRunner.Output {
        let path = binaries.appendingPathComponent(tool).path
        if let runAs {
            return try ProcessRunner.run("/usr/sbin/runuser", ["-u", runAs, "--", path] + arguments, currentDirectory: folder)
        }
        return try ProcessRunner.run(path, arguments, currentDirectory: folder)
    }

    private static func check(_ output: ProcessRunner.Output, _ what: String) throws {
        guard output.status == 0 else { throw ClusterError.command(what, output.stdout + output.stderr) }
    }

    /// Asks the kernel for a free loopback port by binding port 0.
    public static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ClusterError.command("socket()", String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw ClusterError.command("bind()", String(cString: strerror(errno))) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
