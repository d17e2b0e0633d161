/// Failures of the queue layer, with messages meant for the person at the terminal.
public enum QueueError: Error, Equatable, CustomStringConvertible {
    case invalidLocation(String)
    case unsupportedOption(String)
    case noSuchJob(Int64)
    case notCancellable(id: Int64, state: JobState)
    case notRetryable(id: Int64, state: JobState)
    case corruptPayload(id: Int64, reason: String)
    case corruptRow(String)
    case migrationFailed(version: Int, reason: String)
    case schemaTooNew(found: Int, known: Int)
    case database(String)
    case cannotConnect(String)
    case searchTooShort(String, minimum: Int)
    case searchHasNUL

    public var description: String {
        switch self {
        case .invalidLocation(let why):
            return "invalid queue URL: \(why) (use sqlite:PATH or postgres://USER@HOST:PORT/DB)"
        case .unsupportedOption(let why):
            return "unsupported queue option: \(why)"
        case .noSuchJob(let id):
            return "no job with id \(id)"
        case .notCancellable(let id, let state):
            return "job \(id) is \(state.rawValue); only queued or running jobs can be cancelled"
        case .notRetryable(let id, let state):
            return "job \(id) is \(state.rawValue); only dead or cancelled jobs can be retried"
        case .corruptPayload(let id, let reason):
            return "job \(id) has a payload this version cannot read: \(reason)"
        case .corruptRow(let why):
            return "the queue database holds a row this version cannot read: \(why)"
        case .migrationFailed(let version, let reason):
            return "queue schema migration \(version) failed: \(reason)"
        case .schemaTooNew(let found, let known):
            return "the queue database has schema version \(found), newer than this avatarize knows (\(known)); upgrade avatarize"
        case .database(let why):
            return "queue database error: \(why)"
        case .cannotConnect(let why):
            return why
        case let .searchTooShort(text, minimum):
            return "the search '\(text)' is too short: names are searched through an index of \(minimum)-character pieces, so type at least \(minimum) characters"
        case .searchHasNUL:
            return "the search contains a NUL character, which no clip path or job key can hold"
        }
    }
}
