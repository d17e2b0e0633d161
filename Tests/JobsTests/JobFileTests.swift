import Foundation
import XCTest
@testable import Jobs

/// Job file parsing and planning: located diagnostics, path resolution and confinement, idempotency keys.
final class JobFileTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory("jobfile")
        // Planning reads inputs only to hash them; any bytes will do.
        try directory.write("clips/one.mp4", "clip one")
        try directory.write("clips/two.mov", "clip two")
        try directory.write("clips/notes.txt", "not matched by the globs below")
    }

    override func tearDown() {
        directory = nil
    }

    private func plan(_ name: String, _ text: String, root: String? = nil) throws -> [PlannedJob] {
        let url = try directory.write(name, text)
        return try JobPlanner().plan(try JobFileParser().parse(fileAt: url.path), outputRootOverride: root)
    }

    private func diagnostics(_ name: String, _ text: String, root: String? = nil) -> [JobFileDiagnostic] {
        do {
            _ = try plan(name, text, root: root)
            XCTFail("\(name) should have been rejected")
            return []
        } catch let error as JobFileError {
            return error.diagnostics
        } catch {
            XCTFail("unexpected error \(error)")
            return []
        }
    }

    func testDeeplyNestedBracketsAreOneSyntaxError() {
        // 200 000 nested flow sequences: libyaml's nesting limit (1000) stops them before Yams, which builds
        // its nodes recursively, could overflow the stack.
        let found = diagnostics("deep.yaml", "inputs: " + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "\n")
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found.first?.message.contains("Maximum nesting level") == true, "\(found)")
        XCTAssertEqual(found.first?.line, 1)
    }

    func testValidFileExpandsInputsTimesSettingsWithPathsFromTheFilesFolder() throws {
        let jobs = try plan("batch/../jobs.yaml", """
            kind: transcode
            inputs: [clips/*.mp4, clips/two.mov]
            output: out/{clip}-{style}.{ext}
            priority: 4
            max_attempts: 5
            settings:
              - style: warm
              - style: cool
            """)
        XCTAssertEqual(jobs.map { URL(fileURLWithPath: $0.payload.output).lastPathComponent },
                       ["one-warm.mp4", "one-cool.mp4", "two-warm.mov", "two-cool.mov"])
        XCTAssertTrue(jobs.allSatisfy { $0.payload.output.hasPrefix(directory.url.standardizedFileURL.path + "/out/") })
        XCTAssertTrue(jobs.allSatisfy { $0.payload.input.hasPrefix(directory.url.standardizedFileURL.path + "/clips/") })
        XCTAssertTrue(jobs.allSatisfy { $0.spec.priority == 4 && $0.spec.maxAttempts == 5 && $0.spec.kind == "transcode" })
        XCTAssertEqual(Set(jobs.map(\.spec.key)).count, 4, "every job has its own key")
        let decoded = try JSONDecoder().decode(JobPayload.self, from: Data(jobs[0].spec.payload.utf8))
        XCTAssertEqual(decoded, jobs[0].payload)
    }

    func testKeysAreStableAndFollowInputContent() throws {
        let text = "inputs: [clips/one.mp4]\noutput: out/{clip}.mp4\nsettings: [{style: a}]\n"
        let first = try plan("jobs.yaml", text)
        let second = try plan("jobs.yaml", text)
        XCTAssertEqual(first.map(\.spec.key), second.map(\.spec.key))
        try directory.write("clips/one.mp4", "clip one, edited")
        let edited = try plan("jobs.yaml", text)
        XCTAssertNotEqual(first.map(\.spec.key), edited.map(\.spec.key), "an edited clip is a new job")
    }

    func testAWebhookIsCarriedIntoEveryJobAndAJoinedClipsOnly() throws {
        let jobs = try plan("jobs.yaml", "inputs: [clips/one.mp4, clips/two.mov]\noutput: out/{clip}.mp4\nsettings: [{style: a}]\nwebhook: {url: 'https://hooks.example.com/avatarize'}\n")
        XCTAssertEqual(jobs.map(\.payload.webhook), ["https://hooks.example.com/avatarize", "https://hooks.example.com/avatarize"])
        let without = try plan("plain.yaml", "inputs: [clips/one.mp4]\noutput: out/{clip}.mp4\nsettings: [{style: a}]\n")
        XCTAssertFalse(without[0].spec.payload.contains("webhook"), "a job without one stores the payload it always did")
        let found = diagnostics("bad.yaml", "inputs: [clips/one.mp4]\noutput: out/{clip}.mp4\nsettings: [{style: a}]\nwebhook: {url: 'ftp://x/y', secret: s}\n")
        XCTAssertEqual(Set(found.map(\.field)), ["webhook.url", "webhook.secret"])
        XCTAssertTrue(found.allSatisfy { $0.line == 4 }, "\(found)")
    }

    func testEveryProblemIsReportedWithLineAndField() {
        let found = diagnostics("jobs.yaml", """
            inputs: [clips/*.mp4]
            output: out/{clip}-{styel}.mp4
            colour: blue
            max_attempts: 0
            settings:
              - style: ok
              - edits: {smile: 1}
              - style: ../up
            """)
        let summary = found.map { "\($0.line):\($0.field)" }
        XCTAssertTrue(summary.contains("3:colour"), "\(summary)")
        XCTAssertTrue(summary.contains("4:max_attempts"), "\(summary)")
        XCTAssertTrue(summary.contains("7:settings[1].style"), "\(summary)")
        XCTAssertTrue(summary.contains("7:settings[1].edits"), "\(summary)")
        XCTAssertTrue(summary.contains("8:settings[2].style"), "\(summary)")
        XCTAssertTrue(found.allSatisfy { $0.file.hasSuffix("jobs.yaml") })
        XCTAssertTrue(found.first { $0.field == "settings[1].edits" }?.message.contains("transcode") == true)
    }

    func testTemplateAndInputProblemsAreLocated() {
        let found = diagnostics("jobs.yaml", """
            inputs:
              - clips/*.webm
              - clips/missing.mp4
            output: out/{clip}-{styel}.mp4
            settings: [{style: a}]
            """)
        let summary = found.map { "\($0.line):\($0.field)" }
        XCTAssertEqual(Set(summary), ["2:inputs[0]", "3:inputs[1]", "4:output"], "\(found)")
        XCTAssertTrue(found.contains { $0.message.contains("{styel}") })
    }

    func testJSONFilesGetLineNumbersToo() {
        let found = diagnostics("jobs.json", """
            {
            \t"inputs": ["clips/one.mp4"],
            \t"output": "out/{clip}.mp4",
            \t"settings": [
            \t\t{"style": "a", "layout": 3}
            \t]
            }
            """)
        XCTAssertEqual(found.map(\.line), [5], "\(found)")
        XCTAssertEqual(found.first?.field, "settings[0].layout")
        let syntax = diagnostics("broken.json", "{\n  \"inputs\": [\"a\",\n  \"output\": }\n")
        XCTAssertEqual(syntax.count, 1)
        XCTAssertGreaterThan(syntax.first?.line ?? 0, 1, "\(syntax)")
    }

    func testOutputsCannotEscapeTheOutputRoot() throws {
        let dotdot = diagnostics("jobs.yaml", "inputs: [clips/one.mp4]\noutput: out/../../{clip}.mp4\nsettings: [{style: a}]\n")
        XCTAssertEqual(dotdot.map(\.line), [2])
        XCTAssertTrue(dotdot.first?.message.contains("outside the output root") == true, "\(dotdot)")

        let absolute = diagnostics("jobs.yaml", "inputs: [clips/one.mp4]\noutput: /tmp/{clip}.mp4\nsettings: [{style: a}]\n")
        XCTAssertTrue(absolute.first?.message.contains("outside the output root") == true, "\(absolute)")

        // A configured root narrows it further; a sibling folder sharing the prefix is still outside.
        let sibling = diagnostics("jobs.yaml", "inputs: [clips/one.mp4]\noutput: out2/{clip}.mp4\noutput_root: out\nsettings: [{style: a}]\n")
        XCTAssertTrue(sibling.first?.message.contains("outside the output root") == true, "\(sibling)")

        // A link inside the root that leads out of it counts as outside.
        let elsewhere = try TemporaryDirectory("elsewhere")
        try FileManager.default.createSymbolicLink(atPath: directory.file("out").path, withDestinationPath: elsewhere.path)
        let linked = diagnostics("jobs.yaml", "inputs: [clips/one.mp4]\noutput: out/{clip}.mp4\noutput_root: .\nsettings: [{style: a}]\n",
                                 root: nil)
        XCTAssertTrue(linked.first?.message.contains("outside the output root") == true, "\(linked)")

        // --output-root overrides the file.
        let inside = try plan("jobs2.yaml", "inputs: [clips/one.mp4]\noutput: /tmp/avz-anywhere/{clip}.mp4\nsettings: [{style: a}]\n",
                              root: "/tmp/avz-anywhere")
        XCTAssertEqual(inside.first?.payload.output, "/tmp/avz-anywhere/one.mp4")
    }

    func testOutputsCannotOverwriteInputsOrEachOther() {
        let overwrite = diagnostics("jobs.yaml", "inputs: [clips/*.mp4]\noutput: clips/{clip}.{ext}\nsettings: [{style: a}]\n")
        XCTAssertTrue(overwrite.first?.message.contains("overwrite an input") == true, "\(overwrite)")
        let clash = diagnostics("jobs.yaml", "inputs: [clips/one.mp4]\noutput: out/{clip}.mp4\nsettings: [{style: a}, {style: b}]\n")
        XCTAssertTrue(clash.first?.message.contains("would both write") == true, "\(clash)")
    }

    func testStructuralMistakes() {
        XCTAssertEqual(diagnostics("empty.yaml", "").first?.message, "the job file is empty")
        XCTAssertTrue(diagnostics("list.yaml", "- a\n- b\n").first?.message.contains("mapping") == true)
        let missing = Set(diagnostics("bare.yaml", "kind: transcode\n").map(\.field))
        XCTAssertEqual(missing, ["inputs", "output", "settings"])
        let kind = diagnostics("kind.yaml", "kind: paint\ninputs: [clips/one.mp4]\noutput: o/{clip}.mp4\nsettings: [{style: a}]\n")
        XCTAssertEqual(kind.first?.field, "kind")
        XCTAssertEqual(kind.first?.line, 1)
        let syntax = diagnostics("tabs.yaml", "inputs: [clips/one.mp4\noutput: x\n")
        XCTAssertTrue(syntax.first?.message.hasPrefix("syntax error") == true, "\(syntax)")
    }

    /// Inputs that crashed FuzzJobFile (Fuzz/Sources/FuzzJobFile) are located diagnostics now.
    func testFuzzerCrashersAreDiagnostics() {
        // YAML 1.1 reads 1:1:… as a base-60 integer; Yams multiplied its digits past Int's range and trapped.
        for (field, value) in [("priority", "1:1:1:1:1:1:1:1:1:1:1:1"), ("max_attempts", "-9:0:0:0:0:0:0:0:0:0:0:0")] {
            let found = diagnostics("p.yaml", "inputs: [clips/one.mp4]\noutput: out/{clip}.mp4\n\(field): \(value)\nsettings: [{style: a}]\n")
            XCTAssertEqual(found.map(\.field), [field])
            XCTAssertEqual(found.first?.message, "must be a whole number")
            XCTAssertEqual(found.first?.line, 3)
        }
    }

    func testLongClipsBecomeSegmentJobsAndAJoinJob() throws {
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/talking-head.mp4")
        try FileManager.default.copyItem(at: sample, to: directory.file("clips/talk.mp4"))
        // 100 frames at 25 fps: 1.5 s segments are 38 frames, so 3 of them.
        let jobs = try plan("split.yaml", """
            kind: avatar
            inputs: [clips/talk.mp4]
            output: out/{clip}.mp4
            segment_seconds: 1.5
            settings: [{style: sketch}]
            """)
        XCTAssertEqual(jobs.count, 4)
        let segments = jobs.compactMap(\.payload.segment)
        XCTAssertEqual(segments.map(\.index), [0, 1, 2, nil])
        XCTAssertTrue(segments.allSatisfy { $0.frames == 38 && $0.count == 3 })
        XCTAssertEqual(segments[2].range(2, total: 100), 76..<100, "the last segment runs to the end")
        XCTAssertEqual(jobs.last?.payload.output, directory.file("out/talk.mp4").path)
        XCTAssertTrue(jobs.dropLast().allSatisfy { $0.spec.priority == 1 && $0.payload.output.contains("/out/.talk.mp4.segments/") },
                      "segment jobs write receipts beside the output and run before the join job")
        XCTAssertEqual(Set(jobs.map(\.spec.key)).count, 4)
        // A clip shorter than one segment stays one job.
        let short = try plan("short.yaml", """
            kind: avatar
            inputs: [clips/talk.mp4]
            output: out/{clip}-short.mp4
            segment_seconds: 10
            settings: [{style: sketch}]
            """)
        XCTAssertEqual(short.count, 1)
        XCTAssertNil(short[0].payload.segment)
    }

    func testSegmentSecondsIsCheckedAndOnlyForAvatarJobs() {
        let transcode = diagnostics("t.yaml", """
            inputs: [clips/one.mp4]
            output: out/{clip}.mp4
            segment_seconds: 2
            settings: [{style: identity}]
            """)
        XCTAssertEqual(transcode.map(\.field), ["segment_seconds"])
        XCTAssertTrue(transcode.first?.message.contains("only the avatar kind") == true, "\(transcode)")
        let bad = diagnostics("a.yaml", """
            kind: avatar
            inputs: [clips/one.mp4]
            output: out/{clip}.mp4
            segment_seconds: soon
            settings: [{style: sketch}]
            """)
        XCTAssertEqual(bad.map(\.field), ["segment_seconds"])
        XCTAssertEqual(bad.first?.line, 4)
    }

    func testDiagnosticFormatIsFileLineColumnFieldMessage() {
        let diagnostic = JobFileDiagnostic(file: "jobs.yaml", line: 3, column: 5, field: "settings[0].style", message: "missing")
        XCTAssertEqual(diagnostic.description, "jobs.yaml:3:5: settings[0].style: missing")
        let error = JobFileError.invalid([diagnostic])
        XCTAssertTrue(error.description.contains("nothing was enqueued"))
    }

    /// Setting values and styles are checked at enqueue, each problem at its settings entry's line, so a bad value
    /// never reaches a worker (where it would burn attempts).
    func testAvatarSettingValuesAndStylesAreCheckedAtEnqueue() {
        let problems = diagnostics("values.yaml", """
            kind: avatar
            inputs: [clips/one.mp4]
            output: out/{clip}-{style}.mp4
            settings:
              - style: sketch
              - style: sketch2
                smoothing: wobbly
              - style: no-such-style
                layout: diagonal
            """)
        XCTAssertEqual(problems.map(\.field), ["settings[1].smoothing", "settings[1].style", "settings[2].layout", "settings[2].style"],
                       "\(problems)")
        XCTAssertEqual(problems.map(\.line), [6, 6, 8, 8])
        XCTAssertTrue(problems[1].message.contains("\(directory.path)/sketch2"), "styles resolve against the job file's folder: \(problems[1])")
    }

    /// A style bundle beside the job file is found from any working folder and stored as an absolute path; its
    /// weights, not its path, go into the key.
    func testStyleBundlesResolveAgainstTheJobFileAndKeyByContent() throws {
        try directory.write("jobs/my-style/weights.safetensors", "weights one")
        let text = """
            kind: avatar
            inputs: [../clips/one.mp4]
            output: out/{clip}-{style}.mp4
            settings: [{style: my-style}]
            """
        let first = try plan("jobs/style.yaml", text)
        XCTAssertEqual(first.first?.payload.styleBundle, directory.file("jobs/my-style").path)
        XCTAssertEqual(try plan("jobs/style.yaml", text).map(\.spec.key), first.map(\.spec.key), "same content, same key")
        // New weights at the same path: a new result, so a new key.
        try directory.write("jobs/my-style/weights.safetensors", "weights two, retrained")
        XCTAssertNotEqual(try plan("jobs/style.yaml", text).map(\.spec.key), first.map(\.spec.key))
    }
}
