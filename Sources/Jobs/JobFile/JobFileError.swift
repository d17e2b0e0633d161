/// One problem found in a job file, located so that an editor can jump to it.
public struct JobFileDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    /// Path of the offending field, e.g. `settings[1].style` (empty for whole-file problems).
    public var field: String
    public var message: String

    public init(file: String, line: Int, column: Int, field: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    /// `file:line:column: field: message`, the format compilers use, so editors and CI annotate it.
    public var description: String {
        field.isEmpty ? "\(file):\(line):\(column): \(message)" : "\(file):\(line):\(column): \(field): \(message)"
    }
}

/// Why a job file was rejected. Validation collects every problem before failing, so one run shows them all.
public enum JobFileError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case invalid([JobFileDiagnostic])

    public var diagnostics: [JobFileDiagnostic] {
        switch self {
        case .unreadable(let file, let reason): return [JobFileDiagnostic(file: file, line: 1, column: 1, field: "", message: reason)]
        case .invalid(let diagnostics): return diagnostics
        }
    }

    public var description: String {
        let lines = diagnostics.map(\.description)
        let count = lines.count == 1 ? "1 problem" : "\(lines.count) problems"
        return "job file rejected (\(count); nothing was enqueued):\n" + lines.joined(separator: "\n")
    }
}
