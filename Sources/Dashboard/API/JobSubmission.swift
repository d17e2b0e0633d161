import Crypto
import Foundation
import Jobs

/// `POST /api/jobs`: a job file's content (JSON or YAML) checked by the same parser and planner as `enqueue`,
/// with every input confined to the input root and every output to the output root, symlinks resolved.
struct JobSubmission: Sendable {
    /// Real paths (symlinks resolved), so that confinement compares like with like.
    let inputRoot: URL
    let outputRoot: URL
    let webhookHosts: WebhookHosts

    init(inputRoot: String, outputRoot: String?, webhookHosts: WebhookHosts? = nil) {
        self.webhookHosts = webhookHosts ?? WebhookHosts(entries: [])
        self.inputRoot = URL(fileURLWithPath: inputRoot).standardizedFileURL.resolvingSymlinksInPath()
        self.outputRoot = outputRoot.map { URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath() } ?? self.inputRoot
    }

    /// The name problems are reported under: the body is not a file, but the parser's JSON handling goes by it.
    static func documentName(contentType: String?) -> String {
        (contentType ?? "").lowercased().contains("json") ? "request.json" : "request.yaml"
    }

    /// The planned jobs, or `JobFileError.invalid` with every problem located in the body.
    func plan(body: String, contentType: String?) throws -> [PlannedJob] {
        let name = Self.documentName(contentType: contentType)
        // Parsed as if it were a file in the input root, so relative inputs resolve against it.
        let path = inputRoot.appendingPathComponent(name).path
        do {
            let file = try JobFileParser().parse(text: body, path: path)
            var problems: [JobFileDiagnostic] = []
            // Before the planner looks at the disk: a path outside the root is refused without saying whether it exists.
            for input in file.inputs where !JobPlanner.isInside(JobPlanner.resolve(input.value, against: inputRoot), root: inputRoot) {
                problems.append(JobFileDiagnostic(file: path, line: input.line, column: input.column, field: input.field,
                                                  message: "\(input.value) is outside the input root"))
            }
            if let root = file.outputRoot, !JobPlanner.isInside(JobPlanner.resolvingExistingSymlinks(JobPlanner.resolve(root.value, against: inputRoot)), root: outputRoot) {
                problems.append(JobFileDiagnostic(file: path, line: root.line, column: root.column, field: root.field,
                                                  message: "\(root.value) is outside the output root"))
            }
            // Workers call only the hosts the operator allowed; the submitter learns it now, not from a silent worker.
            if let hook = file.webhook, !(URL(string: hook.value).map(webhookHosts.allows) ?? false) {
                problems.append(JobFileDiagnostic(file: path, line: hook.line, column: hook.column, field: hook.field,
                                                  message: "\(URL(string: hook.value)?.host ?? hook.value) is not one of the hosts this dashboard allows webhooks to (--webhook-hosts)"))
            }
            guard problems.isEmpty else { throw JobFileError.invalid(problems) }
            let planned = try JobPlanner().plan(file, outputRootOverride: file.outputRoot == nil ? outputRoot.path : nil)
            // After the planner: a symlink inside the root that leads out of it.
            for job in planned {
                let input = JobPlanner.resolvingExistingSymlinks(URL(fileURLWithPath: job.payload.input))
                if !JobPlanner.isInside(input, root: inputRoot) {
                    problems.append(locate(file.inputs.first, path, "\(job.payload.input) leads outside the input root (through a symbolic link)"))
                }
                let output = JobPlanner.resolvingExistingSymlinks(URL(fileURLWithPath: job.payload.output))
                if !JobPlanner.isInside(output, root: outputRoot) {
                    problems.append(locate(file.outputRoot ?? file.output, path, "\(job.payload.output) is outside the output root"))
                }
            }
            guard problems.isEmpty else { throw JobFileError.invalid(problems) }
            return planned
        } catch let error as JobFileError {
            // Problems name the body, not the made-up path in the input root.
            throw JobFileError.invalid(error.diagnostics.map { var d = $0; d.file = name; return d })
        }
    }

    private func locate<V>(_ located: JobFile.Located<V>?, _ path: String, _ message: String) -> JobFileDiagnostic {
        JobFileDiagnostic(file: path, line: located?.line ?? 1, column: located?.column ?? 1, field: located?.field ?? "", message: message)
    }

    /// What an idempotency key is compared with: the body and its content type.
    static func digest(body: [UInt8], contentType: String?) -> String {
        var hash = SHA256()
        hash.update(data: Array((contentType ?? "").utf8) + [0])
        hash.update(data: body)
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
