import Foundation
import Video
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One job ready to enqueue: the queue's spec and the payload it carries.
public struct PlannedJob: Sendable, Equatable {
    public var spec: JobSpec
    public var payload: JobPayload
}

/// Turns a parsed job file into jobs: expands globs, renders output paths, confines outputs to the output root and
/// derives idempotency keys. Every problem is collected; any problem means no jobs at all, so a bad file never
/// enqueues half a batch.
public struct JobPlanner: Sendable {
    public var kinds: JobKinds

    public init(kinds: JobKinds = .builtIn) {
        self.kinds = kinds
    }

    /// - Parameter outputRootOverride: an absolute folder that replaces the file's `output_root` (the CLI's
    ///   `--output-root`).
    public func plan(_ file: JobFile, outputRootOverride: String? = nil) throws -> [PlannedJob] {
        var problems: [JobFileDiagnostic] = []
        func problem<V>(_ located: JobFile.Located<V>, _ message: String) {
            problems.append(JobFileDiagnostic(file: file.path, line: located.line, column: located.column,
                                              field: located.field, message: message))
        }
        guard let kind = kinds[file.kind.value] else {
            problem(file.kind, "unknown job kind '\(file.kind.value)'")
            throw JobFileError.invalid(problems)
        }
        let base = file.baseDirectory
        // Computed once: for the avatar kind it hashes the model weights.
        let kindIdentity = kind.identity
        let root: URL
        if let outputRootOverride {
            root = URL(fileURLWithPath: outputRootOverride).standardizedFileURL
        } else if let configured = file.outputRoot {
            root = Self.resolve(configured.value, against: base)
        } else {
            root = base
        }
        let realRoot = Self.resolvingExistingSymlinks(root)

        var template: OutputTemplate?
        do {
            template = try OutputTemplate(file.output.value)
        } catch {
            problem(file.output, error.description)
        }

        // Inputs, in file order, each once.
        var inputs: [String] = []
        var seen = Set<String>()
        for pattern in file.inputs {
            let absolute = Self.resolve(pattern.value, against: base).path
            let matches: [String]
            if pattern.value.contains(where: { "*?[".contains($0) }) {
                matches = Self.expandGlob(absolute).filter(Self.isRegularFile)
                if matches.isEmpty { problem(pattern, "pattern matches no files (looked for \(absolute))") }
            } else if Self.isRegularFile(absolute) {
                matches = [absolute]
            } else {
                problem(pattern, "no such file: \(absolute)")
                matches = []
            }
            for match in matches {
                let real = Self.resolvingExistingSymlinks(URL(fileURLWithPath: match)).path
                if seen.insert(real).inserted { inputs.append(match) }
            }
        }

        // Every settings entry's values, checked (and its style resolved against the job file's folder) once.
        var resolvedSettings: [ResolvedSettings?] = []
        for entry in file.settings {
            do {
                resolvedSettings.append(try kind.resolve(entry.value, relativeTo: base))
            } catch {
                for item in error.items {
                    problems.append(JobFileDiagnostic(file: file.path, line: entry.line, column: entry.column,
                                                      field: "\(entry.field).\(item.field)", message: item.message))
                }
                resolvedSettings.append(nil)
            }
        }

        var planned: [PlannedJob] = []
        var outputs: [String: String] = [:]
        var digests: [String: String] = [:]
        var frameCounts: [String: (frames: Int, rate: Double)] = [:]
        if let template {
            for input in inputs {
                let inputURL = URL(fileURLWithPath: input)
                let clip = inputURL.deletingPathExtension().lastPathComponent
                for (settingsIndex, settings) in file.settings.enumerated() {
                    guard let resolved = resolvedSettings[settingsIndex] else { continue }
                    let rendered = template.render(["clip": clip, "style": settings.value.style, "ext": inputURL.pathExtension])
                    let output = Self.resolve(rendered, against: base)
                    let label = "clip '\(clip)' with style '\(settings.value.style)'"
                    guard Self.isInside(output, root: root),
                          Self.isInside(Self.resolvingExistingSymlinks(output), root: realRoot) else {
                        problem(file.output, "\(label) would write \(output.path), outside the output root \(root.path)")
                        continue
                    }
                    guard output.path != root.path, !rendered.hasSuffix("/") else {
                        problem(file.output, "\(label) renders to a folder (\(output.path)), not a file")
                        continue
                    }
                    let realOutput = Self.resolvingExistingSymlinks(output).path
                    if seen.contains(realOutput) {
                        problem(file.output, "\(label) would overwrite an input file (\(output.path))")
                        continue
                    }
                    if let other = outputs[realOutput] {
                        problem(file.output, "\(label) and \(other) would both write \(output.path); add {clip} or {style} to the template")
                        continue
                    }
                    outputs[realOutput] = label
                    let digest: String
                    if let known = digests[input] {
                        digest = known
                    } else {
                        do {
                            digest = try InputFingerprint.sha256(ofFileAt: input)
                            digests[input] = digest
                        } catch {
                            problem(settings, "cannot read input \(input): \(error.localizedDescription)")
                            continue
                        }
                    }
                    // Clips longer than segment_seconds become segment jobs plus a join job.
                    var segments: (frames: Int, count: Int)?
                    if let seconds = file.segmentSeconds {
                        if frameCounts[input] == nil {
                            do {
                                let video = try MediaInfo.probe(URL(fileURLWithPath: input)).video
                                let rate = video?.frameRate ?? 0
                                let frames = video?.frameCount ?? Int(((video?.duration ?? 0) * rate).rounded())
                                frameCounts[input] = (frames, rate)
                            } catch {
                                problem(seconds, "cannot read input \(input) to split it: \(error)")
                                continue
                            }
                        }
                        if let (frames, rate) = frameCounts[input], rate > 0 {
                            let per = max(1, Int((seconds.value * rate).rounded()))
                            let count = (frames + per - 1) / per
                            if count > 1 { segments = (per, count) }
                        }
                    }
                    do {
                        let settingsJSON = try JobPayload.canonicalJSON(settings.value)
                        func job(output path: String, segment: JobSegment?, priority: Int, keyParts: [String]) throws -> PlannedJob {
                            let payload = JobPayload(input: input, output: path, outputRoot: root.path, clip: clip,
                                                     settings: settings.value, segment: segment, styleBundle: resolved.styleBundle,
                                                     inputDigest: digest,
                                                     // A clip's end is its join job's: segment jobs call nobody.
                                                     webhook: segment?.index == nil ? file.webhook?.value : nil)
                            // Content, not paths, decides what a result is: the input's bytes, the kind's model weights
                            // and the entry's style weights. The output path is part of the key too: two outputs of
                            // identical content are two wanted files.
                            let key = InputFingerprint.sha256(of: [
                                "avatarize-job-v2", kind.name, kindIdentity, resolved.identity, digest, settingsJSON, path,
                            ].joined(separator: "\n") + keyParts.map { "\n" + $0 }.joined())
                            return PlannedJob(spec: JobSpec(key: key, kind: kind.name, payload: try payload.encoded(),
                                                            priority: priority, maxAttempts: file.maxAttempts),
                                              payload: payload)
                        }
                        if let (per, count) = segments {
                            let folder = output.deletingLastPathComponent()
                                .appendingPathComponent(".\(output.lastPathComponent).segments").path
                            // Segment jobs a step ahead of their join job, so they are claimed first.
                            for k in 0..<count {
                                let part = (folder as NSString).appendingPathComponent(String(format: "part-%03d.done", k))
                                planned.append(try job(output: part, segment: JobSegment(frames: per, count: count, index: k, folder: folder),
                                                       priority: file.priority + 1, keyParts: ["segment \(k) of \(count) × \(per) frames"]))
                            }
                            planned.append(try job(output: output.path, segment: JobSegment(frames: per, count: count, index: nil, folder: folder),
                                                   priority: file.priority, keyParts: ["joined from \(count) × \(per) frames"]))
                        } else {
                            planned.append(try job(output: output.path, segment: nil, priority: file.priority, keyParts: []))
                        }
                    } catch {
                        problem(settings, "cannot encode settings: \(error)")
                    }
                }
            }
        }
        guard problems.isEmpty else { throw JobFileError.invalid(problems) }
        return planned
    }

    // MARK: - Paths

    public static func resolve(_ path: String, against base: URL) -> URL {
        let expanded = (path as NSString).expandingTildeInPath
        let url = expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded) : base.appendingPathComponent(expanded)
        return url.standardizedFileURL
    }

    /// True when `url` is `root` or below it, compared by whole path components (so `/out2` is not inside `/out`).
    public static func isInside(_ url: URL, root: URL) -> Bool {
        let path = url.standardizedFileURL.pathComponents
        let rootPath = root.standardizedFileURL.pathComponents
        return path.count >= rootPath.count && Array(path.prefix(rootPath.count)) == rootPath
    }

    /// Resolves symlinks in the longest existing prefix of `url` and appends the rest, so a link inside the output
    /// root that points elsewhere is caught even before the output exists.
    public static func resolvingExistingSymlinks(_ url: URL) -> URL {
        var existing = url.standardizedFileURL
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing.path), existing.pathComponents.count > 1 {
            rest.insert(existing.lastPathComponent, at: 0)
            existing = existing.deletingLastPathComponent()
        }
        var resolved = existing.resolvingSymlinksInPath()
        for component in rest { resolved.appendPathComponent(component) }
        return resolved.standardizedFileURL
    }

    static func isRegularFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    static func expandGlob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard glob(pattern, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { index in
            matches.gl_pathv[index].map { String(cString: $0) }
        }.sorted()
    }
}

extension JobPayload {
    /// Sorted-key JSON of any value, for hashing.
    static func canonicalJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
