import Foundation
import Yams

/// Reads a YAML or JSON job file into a `JobFile`, collecting every structural problem with its line, column and
/// field. JSON goes through the same YAML parser (JSON is YAML's flow syntax), which is what gives JSON files line
/// numbers too.
public struct JobFileParser: Sendable {
    public var kinds: JobKinds

    public init(kinds: JobKinds = .builtIn) {
        self.kinds = kinds
    }

    public func parse(fileAt path: String) throws -> JobFile {
        let text: String
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw JobFileError.unreadable(file: path, reason: "not UTF-8 text")
            }
            text = decoded
        } catch let error as JobFileError {
            throw error
        } catch {
            throw JobFileError.unreadable(file: path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text: text, path: path)
    }

    public func parse(text: String, path: String) throws -> JobFile {
        var diagnostics = Diagnostics(file: path)
        // In valid JSON a raw tab can only be insignificant whitespace, which YAML forbids for indentation; swapping
        // it for one space keeps every column where it was.
        let source = path.lowercased().hasSuffix(".json") ? text.replacingOccurrences(of: "\t", with: " ") : text
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: source) else {
                throw JobFileError.invalid([diagnostics.make(line: 1, column: 1, field: "", "the job file is empty")])
            }
            root = node
        } catch let error as JobFileError {
            throw error
        } catch let error as YamlError {
            throw JobFileError.invalid([Self.diagnostic(for: error, file: path)])
        } catch {
            throw JobFileError.invalid([diagnostics.make(line: 1, column: 1, field: "", "cannot parse: \(error)")])
        }

        guard let mapping = root.mapping else {
            throw JobFileError.invalid([diagnostics.make(at: root, field: "", "the top level must be a mapping of fields (inputs, output, settings, …)")])
        }
        for (key, _) in mapping {
            guard let name = key.string, JobFile.fieldNames.contains(name) else {
                diagnostics.add(at: key, field: key.string ?? "?",
                                "unknown field (expected one of \(JobFile.fieldNames.joined(separator: ", ")))")
                continue
            }
        }

        let kindNode = mapping["kind"]
        let kindName = kindNode.map { diagnostics.string($0, field: "kind") ?? "" } ?? "transcode"
        let kind = kinds[kindName]
        if kind == nil, !kindName.isEmpty {
            diagnostics.add(at: kindNode ?? root, field: "kind",
                            "unknown job kind '\(kindName)' (known: \(kinds.names.joined(separator: ", ")))")
        }

        var inputs: [JobFile.Located<String>] = []
        if let node = mapping["inputs"] {
            let items: [Node]
            if let sequence = node.sequence { items = Array(sequence) } else { items = [node] }
            if items.isEmpty { diagnostics.add(at: node, field: "inputs", "needs at least one file or glob pattern") }
            for (index, item) in items.enumerated() {
                let field = node.sequence == nil ? "inputs" : "inputs[\(index)]"
                if let value = diagnostics.string(item, field: field) {
                    if value.isEmpty {
                        diagnostics.add(at: item, field: field, "must not be empty")
                    } else {
                        inputs.append(diagnostics.locate(value, at: item, field: field))
                    }
                }
            }
        } else {
            diagnostics.add(at: root, field: "inputs", "missing (a list of files or glob patterns)")
        }

        var output: JobFile.Located<String>?
        if let node = mapping["output"] {
            if let value = diagnostics.string(node, field: "output") {
                if value.isEmpty { diagnostics.add(at: node, field: "output", "must not be empty") }
                output = diagnostics.locate(value, at: node, field: "output")
            }
        } else {
            diagnostics.add(at: root, field: "output", "missing (a path template such as out/{clip}-{style}.mp4)")
        }

        var outputRoot: JobFile.Located<String>?
        if let node = mapping["output_root"], let value = diagnostics.string(node, field: "output_root") {
            if value.isEmpty { diagnostics.add(at: node, field: "output_root", "must not be empty") }
            outputRoot = diagnostics.locate(value, at: node, field: "output_root")
        }

        let priority = mapping["priority"].flatMap { diagnostics.int($0, field: "priority", range: -1_000_000...1_000_000) } ?? 0
        let maxAttempts = mapping["max_attempts"].flatMap { diagnostics.int($0, field: "max_attempts", range: 1...100) } ?? 3
        var segmentSeconds: JobFile.Located<Double>?
        if let node = mapping["segment_seconds"] {
            if let kind, !(kind is AvatarJobKind) {
                diagnostics.add(at: node, field: "segment_seconds", "only the avatar kind splits clips into segments")
            } else if node.scalar != nil, let value = node.float, value.isFinite, value >= 0.1 {
                segmentSeconds = diagnostics.locate(value, at: node, field: "segment_seconds")
            } else {
                diagnostics.add(at: node, field: "segment_seconds", "must be a number of seconds, at least 0.1")
            }
        }

        var settings: [JobFile.Located<JobSettings>] = []
        if let node = mapping["settings"] {
            if let sequence = node.sequence {
                if sequence.isEmpty { diagnostics.add(at: node, field: "settings", "needs at least one entry") }
                for (index, item) in sequence.enumerated() {
                    if let entry = parseSettings(item, field: "settings[\(index)]", kind: kind, diagnostics: &diagnostics) {
                        settings.append(diagnostics.locate(entry, at: item, field: "settings[\(index)]"))
                    }
                }
            } else {
                diagnostics.add(at: node, field: "settings", "must be a list of settings entries (- style: …)")
            }
        } else {
            diagnostics.add(at: root, field: "settings", "missing (a list such as [{style: identity}])")
        }

        var webhook: JobFile.Located<String>?
        if let node = mapping["webhook"] {
            if let url = node.mapping?["url"] {
                for (key, _) in node.mapping! where key.string != "url" {
                    diagnostics.add(at: key, field: "webhook.\(key.string ?? "?")", "unknown field (expected url)")
                }
                if let value = diagnostics.string(url, field: "webhook.url") {
                    if let parsed = URL(string: value), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil {
                        webhook = diagnostics.locate(value, at: url, field: "webhook.url")
                    } else {
                        diagnostics.add(at: url, field: "webhook.url", "must be an http or https URL")
                    }
                }
            } else {
                diagnostics.add(at: node, field: "webhook", "must be a mapping with a url (webhook: {url: https://…})")
            }
        }

        guard diagnostics.items.isEmpty, let output else { throw JobFileError.invalid(diagnostics.items) }
        let kindLocated = diagnostics.locate(kindName, at: kindNode ?? root, field: "kind")
        return JobFile(path: path, kind: kindLocated, inputs: inputs, output: output, outputRoot: outputRoot,
                       priority: priority, maxAttempts: maxAttempts, segmentSeconds: segmentSeconds, settings: settings,
                       webhook: webhook)
    }

    private func parseSettings(_ node: Node, field: String, kind: (any JobKind)?, diagnostics: inout Diagnostics) -> JobSettings? {
        guard let mapping = node.mapping else {
            diagnostics.add(at: node, field: field, "must be a mapping such as {style: identity}")
            return nil
        }
        let before = diagnostics.items.count
        for (key, _) in mapping {
            let name = key.string ?? "?"
            if !JobSettings.fieldNames.contains(name) {
                diagnostics.add(at: key, field: "\(field).\(name)",
                                "unknown settings field (expected one of \(JobSettings.fieldNames.joined(separator: ", ")))")
            } else if let kind, !kind.supportedSettings.contains(name) {
                diagnostics.add(at: key, field: "\(field).\(name)", "not used by job kind '\(kind.name)'")
            }
        }
        var style = ""
        if let styleNode = mapping["style"] {
            if let value = diagnostics.string(styleNode, field: "\(field).style") {
                if Self.isSafeName(value) {
                    style = value
                } else {
                    diagnostics.add(at: styleNode, field: "\(field).style",
                                    "'\(value)' must be a plain name (letters, digits, '.', '_', '-'; not starting with '.')")
                }
            }
        } else {
            diagnostics.add(at: node, field: "\(field).style", "missing")
        }
        var edits: [String: Double] = [:]
        if let editsNode = mapping["edits"] {
            if let editsMapping = editsNode.mapping {
                for (key, value) in editsMapping {
                    let name = key.string ?? "?"
                    if let strength = value.float, value.scalar != nil, strength.isFinite {
                        edits[name] = strength
                    } else {
                        diagnostics.add(at: value, field: "\(field).edits.\(name)", "must be a number")
                    }
                }
            } else {
                diagnostics.add(at: editsNode, field: "\(field).edits", "must be a mapping of edit name to strength")
            }
        }
        let smoothing = mapping["smoothing"].flatMap { diagnostics.string($0, field: "\(field).smoothing") }
        let camera = mapping["camera"].flatMap { diagnostics.string($0, field: "\(field).camera") }
        let layout = mapping["layout"].flatMap { diagnostics.string($0, field: "\(field).layout") }
        guard diagnostics.items.count == before else { return nil }
        return JobSettings(style: style, edits: edits, smoothing: smoothing, camera: camera, layout: layout)
    }

    /// Names that go into output paths must not add folders or hide files.
    static func isSafeName(_ name: String) -> Bool {
        guard let first = name.first, first != "." else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }

    static func diagnostic(for error: YamlError, file: String) -> JobFileDiagnostic {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return JobFileDiagnostic(file: file, line: mark.line, column: mark.column, field: "", message: "syntax error: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let mark = context.mark
            return JobFileDiagnostic(file: file, line: mark.line, column: mark.column, field: duplicates.joined(separator: ", "),
                                     message: "field given more than once")
        default:
            return JobFileDiagnostic(file: file, line: 1, column: 1, field: "", message: "cannot parse: \(error)")
        }
    }
}

/// Accumulates diagnostics while the parser keeps going, so that one run reports every problem.
struct Diagnostics {
    let file: String
    var items: [JobFileDiagnostic] = []

    init(file: String) {
        self.file = file
    }

    func make(line: Int, column: Int, field: String, _ message: String) -> JobFileDiagnostic {
        JobFileDiagnostic(file: file, line: line, column: column, field: field, message: message)
    }

    func make(at node: Node, field: String, _ message: String) -> JobFileDiagnostic {
        make(line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, field: field, message)
    }

    mutating func add(at node: Node, field: String, _ message: String) {
        items.append(make(at: node, field: field, message))
    }

    func locate<Value: Sendable>(_ value: Value, at node: Node, field: String) -> JobFile.Located<Value> {
        JobFile.Located(value: value, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, field: field)
    }

    mutating func string(_ node: Node, field: String) -> String? {
        guard let scalar = node.scalar else {
            add(at: node, field: field, "must be a string")
            return nil
        }
        return scalar.string
    }

    /// A plain decimal number. Not Yams's `Node.int`: that also reads YAML 1.1's base-60 integers (`1:30`) and
    /// multiplies their digits without overflow checks, so `1:1:1:1:1:1:1:1:1:1:1:1` trapped (found by FuzzJobFile).
    mutating func int(_ node: Node, field: String, range: ClosedRange<Int>) -> Int? {
        guard let scalar = node.scalar, scalar.style == .plain || scalar.style == .any, let value = Int(scalar.string) else {
            add(at: node, field: field, "must be a whole number")
            return nil
        }
        guard range.contains(value) else {
            add(at: node, field: field, "must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return value
    }
}
