import ArgumentParser
import Dashboard
import Foundation
import Jobs

/// `avatarize dashboard`: the queue in a web browser, beside running workers.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve a web dashboard over the queue: overview, jobs, reports, retry and cancel.",
        discussion: """
        Listens on 127.0.0.1 by default. Any other address needs --token: browsers sign in with it once (a cookie \
        follows, ending after 30 minutes idle or 12 hours), API clients send `Authorization: Bearer TOKEN`. Without \
        a token only loopback Host names are answered (127.0.0.0/8, ::1, localhost), against DNS rebinding.

        The HTTP API (/api/openapi.json describes it) takes jobs with POST /api/jobs when --input-root is given; every \
        write needs a bearer token from --token or --token-file, whatever the address.

        Example: avatarize dashboard --queue postgres://avatarize@db/avatarize --port 8080
        """
    )

    @OptionGroup var queueOptions: QueueOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @Option(help: "Token required to use the dashboard (required off loopback); default $AVATARIZE_DASHBOARD_TOKEN.") var token: String?
    @Flag(help: "Show the queue only: no retry, cancel or re-queue.") var readOnly = false
    @Option(help: "Seconds between the pages' live refreshes.") var refresh: Double = 2
    @Flag(help: "Browsers reach the dashboard through an HTTPS proxy: mark the session cookie Secure.") var behindTLS = false
    @Option(help: "File of `name token` lines, one API token each; read again when it changes (revoke by deleting a line).") var tokenFile: String?
    @Option(help: "Folder that jobs submitted with POST /api/jobs take their inputs from (relative inputs resolve against it).") var inputRoot: String?
    @Option(help: "Folder submitted jobs' outputs must go under (default: the input root).") var outputRoot: String?
    @Option(help: "Hosts a submitted job's webhook may name, comma-separated (host or host:port); none by default.") var webhookHosts: String?
    @Option(help: "Largest clip POST /api/uploads takes, in bytes.") var maxUploadBytes: Int64 = 2 << 30

    func run() async throws {
        let token = self.token ?? ProcessInfo.processInfo.environment["AVATARIZE_DASHBOARD_TOKEN"]
        var options = DashboardOptions(host: host, token: token, readOnly: readOnly, refreshSeconds: max(0.5, refresh),
                                       behindTLS: behindTLS, tokenFile: tokenFile, inputRoot: inputRoot, outputRoot: outputRoot,
                                       webhookHosts: try webhookHosts.map { try WebhookHosts(list: $0) })
        options.maxUploadBytes = maxUploadBytes
        let queue = try await queueOptions.open()
        guard let browsing = queue as? any QueueBrowsing else {
            try await queue.close()
            throw ValidationError("this queue backend cannot be browsed")
        }
        let app: DashboardApp
        do { app = try DashboardApp(queue: browsing, options: options) } catch {
            try await queue.close()
            throw error
        }
        let server = try await WebServer(app: app, host: host, port: port)
        let shown = host.contains(":") ? "[\(host)]" : host
        // Written at once, not when print's buffer fills: a script that started the dashboard with --port 0 reads it.
        let line = "dashboard for \(queue.displayLocation) at http://\(shown):\(server.port)/\(readOnly ? " (read-only)" : "")\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        try await server.run()
        try await queue.close()
    }
}
