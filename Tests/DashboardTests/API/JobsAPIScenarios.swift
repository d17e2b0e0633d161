import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import XCTest
@testable import Dashboard
@testable import Jobs

/// `POST /api/jobs`, `DELETE /api/jobs/ID`, tokens from a file, idempotency keys and the input root, over real
/// HTTP against a real queue. Each backend runs these (see the subclasses in DashboardScenarios.swift).
extension DashboardScenarios {
    static let ciToken = "ci-0123456789abcdef"
    static let opsToken = "ops-fedcba9876543210"

    /// An input root holding `clips/a.mp4` (the sample clip) and a token file naming `ci`.
    func startAPI(readOnly: Bool = false, maxUploadBytes: Int64 = 2 << 30) async throws -> (root: URL, tokenFile: URL) {
        let root = folder.appendingPathComponent("inputs")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("clips"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.sampleClip, to: root.appendingPathComponent("clips/a.mp4"))
        let tokenFile = folder.appendingPathComponent("tokens")
        try "# name token\nci \(Self.ciToken)\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        var options = DashboardOptions(readOnly: readOnly, tokenFile: tokenFile.path, inputRoot: root.path,
                                       webhookHosts: try WebhookHosts(list: "127.0.0.1:9"))
        options.maxUploadBytes = maxUploadBytes
        _ = try await start(options)
        return (root, tokenFile)
    }

    static var sampleClip: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/turning-head.mp4")
    }

    func submit(_ body: String, type: String = "application/json", token: String? = DashboardScenarios.ciToken,
                key: String? = nil) async throws -> (Int, [String: Any]) {
        var headers = ["Content-Type": type]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        if let key { headers["Idempotency-Key"] = key }
        let (status, text) = try await request("POST", "/api/jobs", body: body, headers: headers)
        return (status, (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? ["raw": text])
    }

    func ids(_ answer: [String: Any]) -> [Int64] {
        ((answer["jobs"] as? [[String: Any]]) ?? []).compactMap { ($0["id"] as? NSNumber)?.int64Value }
    }

    func submittedJobsAreValidatedEnqueuedAndIdempotent() async throws {
        _ = try await startAPI()
        let before = try await queue.counts()[.queued] ?? 0
        let body = #"{"inputs": ["clips/a.mp4"], "output": "out/{clip}-{style}.mp4", "settings": [{"style": "sketch"}]}"#

        // Without a token, or with an unknown one: nothing.
        let (anonymous, _) = try await submit(body, token: nil)
        XCTAssertEqual(anonymous, 401)
        let (unknown, _) = try await submit(body, token: "not-a-token-at-all")
        XCTAssertEqual(unknown, 401)

        // The parser's problems, located in the body.
        let (bad, problems) = try await submit("{\"inputs\": [\"clips/a.mp4\"],\n \"output\": \"out/{clip}.mp4\",\n \"colour\": 3}")
        XCTAssertEqual(bad, 422)
        let listed = try XCTUnwrap(problems["problems"] as? [[String: Any]], "\(problems)")
        let unknownField = try XCTUnwrap(listed.first { ($0["field"] as? String) == "colour" }, "\(listed)")
        XCTAssertEqual(unknownField["file"] as? String, "request.json")
        XCTAssertEqual(unknownField["line"] as? Int, 3)
        XCTAssertEqual(unknownField["column"] as? Int, 2, "where the key's quote is")
        XCTAssertNotNil(unknownField["message"] as? String)

        let (created, first) = try await submit(body, key: "batch-1")
        XCTAssertEqual(created, 201, "\(first)")
        let jobIDs = ids(first)
        XCTAssertEqual(jobIDs.count, 1)
        let job = try await queue.job(id: try XCTUnwrap(jobIDs.first))
        let payload = try XCTUnwrap(try job?.decodedPayload())
        XCTAssertTrue(payload.input.hasSuffix("/inputs/clips/a.mp4"), payload.input)
        XCTAssertTrue(payload.output.contains("/inputs/out/"), "outputs default to the input root: \(payload.output)")

        // The same key again answers the same jobs; a different body under it is refused.
        let (again, second) = try await submit(body, key: "batch-1")
        XCTAssertEqual(again, 201)
        XCTAssertEqual(ids(second), jobIDs)
        let (reused, _) = try await submit(body.replacingOccurrences(of: "sketch", with: "poster"), key: "batch-1")
        XCTAssertEqual(reused, 422)
        let queued = try await queue.counts()[.queued] ?? 0
        XCTAssertEqual(queued, before + 1, "the retried request enqueued nothing more")

        // A body over the limit is refused before it is read whole.
        let (tooLarge, _) = try await submit("# " + String(repeating: "x", count: DashboardApp.maxJobFileBody) + "\n" + body)
        XCTAssertEqual(tooLarge, 413)

        // YAML works the same way, here with a webhook on a host the operator allowed.
        let (yaml, third) = try await submit("inputs: [clips/a.mp4]\noutput: out/{clip}-{style}.mp4\nsettings: [{style: poster}]\nwebhook: {url: 'http://127.0.0.1:9/done'}\n",
                                             type: "application/yaml")
        XCTAssertEqual(yaml, 201, "\(third)")
        XCTAssertEqual(ids(third).count, 1)
        XCTAssertNotEqual(ids(third), jobIDs)
        let hooked = try await queue.job(id: try XCTUnwrap(ids(third).first))
        XCTAssertEqual(try hooked?.decodedPayload().webhook, "http://127.0.0.1:9/done")
    }

    func inputsOutsideTheInputRootAreRefused() async throws {
        let (root, _) = try await startAPI()
        let outside = folder.appendingPathComponent("secret.mp4")
        try FileManager.default.copyItem(at: Self.sampleClip, to: outside)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("clips/link.mp4"), withDestinationURL: outside)
        let before = try await queue.counts()
        for input in ["../secret.mp4", outside.path, "clips/link.mp4", "~/secret.mp4"] {
            let (status, answer) = try await submit("inputs: [\"\(input)\"]\noutput: out/{clip}.mp4\nsettings: [{style: sketch}]\n",
                                                    type: "application/yaml")
            XCTAssertEqual(status, 422, input)
            let message = ((answer["problems"] as? [[String: Any]])?.first?["message"] as? String) ?? "\(answer)"
            XCTAssertTrue(message.contains("outside the input root"), "\(input): \(message)")
        }
        let (hook, hookAnswer) = try await submit("inputs: [clips/a.mp4]\noutput: out/{clip}.mp4\nsettings: [{style: sketch}]\nwebhook: {url: 'http://169.254.169.254/latest'}\n",
                                                  type: "application/yaml")
        XCTAssertEqual(hook, 422, "a webhook host the operator did not allow: \(hookAnswer)")
        XCTAssertEqual((hookAnswer["problems"] as? [[String: Any]])?.first?["field"] as? String, "webhook.url")
        let (escape, answer) = try await submit("inputs: [clips/a.mp4]\noutput: out/{clip}.mp4\noutput_root: /tmp\nsettings: [{style: sketch}]\n",
                                                type: "application/yaml")
        XCTAssertEqual(escape, 422, "\(answer)")
        let after = try await queue.counts()
        XCTAssertEqual(after, before, "nothing was enqueued")
    }

    func tokensAreReadFromTheirFileAndDeleteCancels() async throws {
        let (_, tokenFile) = try await startAPI()
        let body = "inputs: [clips/a.mp4]\noutput: out/{clip}.mp4\nsettings: [{style: sketch}]\n"
        let (created, answer) = try await submit(body, type: "application/yaml")
        XCTAssertEqual(created, 201)
        let id = try XCTUnwrap(ids(answer).first)

        // Revoke ci and add ops, without a restart.
        try "ops \(Self.opsToken)\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let (revoked, _) = try await request("DELETE", "/api/jobs/\(id)", body: nil, headers: ["Authorization": "Bearer \(Self.ciToken)"])
        XCTAssertEqual(revoked, 401)
        let (noToken, _) = try await request("DELETE", "/api/jobs/\(id)", body: nil, headers: [:])
        XCTAssertEqual(noToken, 401)
        let stillQueued = try await queue.job(id: id)?.state
        XCTAssertEqual(stillQueued, .queued)
        let (cancelled, detail) = try await request("DELETE", "/api/jobs/\(id)", body: nil, headers: ["Authorization": "Bearer \(Self.opsToken)"])
        XCTAssertEqual(cancelled, 200, detail)
        let state = try await queue.job(id: id)?.state
        XCTAssertEqual(state, .cancelled)
        let (twice, _) = try await request("DELETE", "/api/jobs/\(id)", body: nil, headers: ["Authorization": "Bearer \(Self.opsToken)"])
        XCTAssertEqual(twice, 409, "a cancelled job cannot be cancelled again")
        let (missing, _) = try await request("DELETE", "/api/jobs/999999", body: nil, headers: ["Authorization": "Bearer \(Self.opsToken)"])
        XCTAssertEqual(missing, 404)
    }

    func uploadsAreStreamedToDiskHashedAndLimited() async throws {
        let clip = try Data(contentsOf: Self.sampleClip)
        let (root, _) = try await startAPI(maxUploadBytes: Int64(clip.count))
        func upload(_ data: Data, token: String? = DashboardScenarios.ciToken) async throws -> (Int, [String: Any]) {
            var request = URLRequest(url: URL(string: base + "/api/uploads?name=My%20Talk.MP4")!)
            request.httpMethod = "POST"
            request.httpBody = data
            request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            let (body, response) = try await URLSession(configuration: .ephemeral).data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:])
        }
        let (anonymous, _) = try await upload(clip, token: nil)
        XCTAssertEqual(anonymous, 401)
        let (created, answer) = try await upload(clip)
        XCTAssertEqual(created, 201, "\(answer)")
        let digest = SHA256Digest.hex(clip)
        XCTAssertEqual(answer["path"] as? String, "uploads/\(digest).mp4")
        XCTAssertEqual(answer["sha256"] as? String, digest)
        XCTAssertEqual((answer["bytes"] as? NSNumber)?.intValue, clip.count)
        XCTAssertEqual(try Data(contentsOf: root.appendingPathComponent("uploads/\(digest).mp4")), clip)
        let (again, second) = try await upload(clip)
        XCTAssertEqual(again, 201)
        XCTAssertEqual(second["path"] as? String, answer["path"] as? String, "the same bytes are one file")

        // One byte over the limit: refused, and nothing is left behind.
        let (tooLarge, _) = try await upload(clip + Data([0]))
        XCTAssertEqual(tooLarge, 413)
        // An empty body is no clip: refused, nothing kept (the hash of nothing would otherwise name a file).
        let (empty, emptyAnswer) = try await upload(Data())
        XCTAssertEqual(empty, 400, "\(emptyAnswer)")
        let left = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("uploads").path)
        XCTAssertEqual(left, ["\(digest).mp4"])

        // The uploaded clip is an input like any other.
        let (queued, jobs) = try await submit("inputs: [uploads/\(digest).mp4]\noutput: out/{clip}.mp4\nsettings: [{style: sketch}]\n", type: "application/yaml")
        XCTAssertEqual(queued, 201, "\(jobs)")
    }

    func writesNeedABearerTokenEvenOnLoopback() async throws {
        let seeded = try await start()
        let (submit, _) = try await request("POST", "/api/jobs", body: "inputs: []", headers: ["Content-Type": "application/yaml"])
        XCTAssertEqual(submit, 401)
        let (cancel, _) = try await request("DELETE", "/api/jobs/\(seeded.running)", body: nil, headers: [:])
        XCTAssertEqual(cancel, 401)
        let state = try await queue.job(id: seeded.running)?.state
        XCTAssertEqual(state, .running)
    }

    func openAPIDocumentDescribesEveryAPIRoute() async throws {
        _ = try await startAPI()
        let (status, text) = try await get("/api/openapi.json")
        XCTAssertEqual(status, 200)
        // The served document is the file the generator made the API's types and routes from.
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Dashboard/API/openapi.json")
        XCTAssertEqual(text, try String(contentsOf: source, encoding: .utf8))
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let paths = try XCTUnwrap(document["paths"] as? [String: [String: Any]])
        let methods = Set(["get", "post", "put", "delete", "patch"])
        let documented = Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
        let app = try DashboardApp(queue: queue, options: DashboardOptions(token: Self.ciToken))
        let served = Set(WebServer.routeTable(.init(dashboard: app)).filter { $0.split(separator: " ")[1].hasPrefix("/api/") })
        XCTAssertEqual(documented.union(["GET /api/openapi.json"]), served, "every /api route but the document itself is an operation of the document")
    }

    /// What the generated code cannot read is answered in the API's JSON shape, with the status the document implies.
    func requestsOutsideTheDocumentAreAnsweredInJSON() async throws {
        _ = try await startAPI()
        let auth = ["Authorization": "Bearer \(Self.ciToken)"]
        for query in ["state=bogus", "limit=ten", "before=x"] {
            let (status, text) = try await request("GET", "/api/jobs?\(query)", body: nil, headers: auth)
            XCTAssertEqual(status, 400, "\(query): \(text)")
            let answer = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            XCTAssertNotNil(answer?["error"] as? String, text)
        }
        // A path the API has, asked with a method it does not answer there.
        let (put, allowed) = try await exchange("PUT", "/api/jobs", body: "", headers: auth)
        XCTAssertEqual(put, 405)
        XCTAssertEqual(allowed["allow"], "GET, POST")
        let (putJob, allowedJob) = try await exchange("PUT", "/api/jobs/1", body: "", headers: auth)
        XCTAssertEqual(putJob, 405)
        XCTAssertEqual(allowedJob["allow"], "DELETE, GET")
        let (nul, nulText) = try await request("GET", "/api/jobs?q=mp4%00x", body: nil, headers: auth)
        XCTAssertEqual(nul, 400, nulText)

        // curl -d's default type is not a job file's: refused with the types it could have been.
        let (form, formText) = try await request("POST", "/api/jobs", body: "inputs: [clips/a.mp4]\n",
                                                 headers: auth.merging(["Content-Type": "application/x-www-form-urlencoded"]) { a, _ in a })
        XCTAssertEqual(form, 415, formText)
        XCTAssertTrue(formText.contains("application/yaml"), formText)

        // JSON that is not JSON: the job file parser says where, as for every other problem.
        let (broken, problems) = try await submit("{\"inputs\": [\"clips/a.mp4\"],\n \"output\": }")
        XCTAssertEqual(broken, 422, "\(problems)")
        let first = try XCTUnwrap((problems["problems"] as? [[String: Any]])?.first, "\(problems)")
        XCTAssertEqual(first["file"] as? String, "request.json")
        XCTAssertEqual(first["line"] as? Int, 2)
    }

    /// Requests racing under one Idempotency-Key with two different bodies: one body wins the key, every answer
    /// of that body names the same jobs, every other request is refused, and only the winner's job is queued.
    func racingRequestsUnderOneKeyEnqueueOneBody() async throws {
        _ = try await startAPI()
        let before = try await queue.counts()[.queued] ?? 0
        let bodies = ["sketch", "poster"].map { #"{"inputs": ["clips/a.mp4"], "output": "out/{clip}-{style}.mp4", "settings": [{"style": "\#($0)"}]}"# }
        let url = URL(string: base + "/api/jobs")!
        let answers = try await withThrowingTaskGroup(of: (Int, Int, [Int64]).self) { group in
            for k in 0..<8 {
                group.addTask {
                    var request = URLRequest(url: url)
                    request.httpMethod = "POST"
                    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                    request.setValue("Bearer \(Self.ciToken)", forHTTPHeaderField: "Authorization")
                    request.setValue("race", forHTTPHeaderField: "Idempotency-Key")
                    request.httpBody = Data(bodies[k % 2].utf8)
                    let (data, response) = try await URLSession(configuration: .ephemeral).data(for: request)
                    let answer = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
                    let ids = ((answer["jobs"] as? [[String: Any]]) ?? []).compactMap { ($0["id"] as? NSNumber)?.int64Value }
                    return (k % 2, (response as? HTTPURLResponse)?.statusCode ?? 0, ids)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let winners = Set(answers.filter { $0.1 == 201 }.map(\.0))
        XCTAssertEqual(winners.count, 1, "one body wins the key: \(answers)")
        let winner = try XCTUnwrap(winners.first)
        XCTAssertTrue(answers.allSatisfy { ($0.0 == winner) == ($0.1 == 201) }, "\(answers)")
        XCTAssertEqual(Set(answers.filter { $0.1 == 201 }.map(\.2)).count, 1, "every winning answer names the same jobs: \(answers)")
        let queued = try await queue.counts()[.queued] ?? 0
        XCTAssertEqual(queued, before + 1, "the refused body left nothing in the queue")
    }
}

/// SHA-256 as lower-case hex, computed here by the system's sha256sum so that the test does not share the code it checks.
enum SHA256Digest {
    static func hex(_ data: Data) -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("digest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try? data.write(to: file)
        let out = (try? ProcessRunner.run("/usr/bin/sha256sum", [file.path]).stdout) ?? ""
        return String(out.prefix(64))
    }
}
