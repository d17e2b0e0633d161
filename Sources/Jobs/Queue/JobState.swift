/// Where a job is in its life. A job waiting out a retry backoff is `queued` with a `runAfter` in the future;
/// there is no separate "failed" state because a failure either schedules another attempt or ends in `dead`.
public enum JobState: String, Codable, Sendable, CaseIterable, Comparable {
    case queued
    case running
    case succeeded
    case dead
    case cancelled

    /// States a job can leave only through an explicit `retry`.
    public var isTerminal: Bool {
        switch self {
        case .queued, .running: return false
        case .succeeded, .dead, .cancelled: return true
        }
    }

    public static func < (lhs: JobState, rhs: JobState) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
