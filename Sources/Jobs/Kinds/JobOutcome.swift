import Pipeline

/// What a finished job reports beyond its output file; stored in the job's record by the worker when the output is
/// put in place (`JobQueue.markFinishing`).
public struct JobOutcome: Sendable, Equatable {
    /// An avatar job's identity figure (dlib descriptors of source and avatar faces): the whole clip's, or for a
    /// segment job the frames it rendered itself. Nil for other kinds, and when the face recognition model is not
    /// installed.
    public var identity: IdentityFigure.Summary?

    public init(identity: IdentityFigure.Summary? = nil) {
        self.identity = identity
    }
}
