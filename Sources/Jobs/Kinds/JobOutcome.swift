import Pipeline

/// What a finished job reports beyond its output file; stored in the job's record by the worker when the output is
/// put in place (`JobQueue.markFinishing`).
public struct JobOutcome: Sendable, Equatable {
    /// An avatar job's identity figure (dlib descriptors of source and avatar faces): the whole clip's, or for a
    /// segment job the frames it rendered itself. Nil for other kinds, and when the face recognition model is not
    /// installed.
    public var identity: IdentityFigure.Summary?
    /// The arithmetic the networks ran in (`fp32`, `bf16`): `--precision auto` picks per CPU, so a farm of mixed
    /// machines records which one made each video. Nil for kinds without networks.
    public var precision: String?

    public init(identity: IdentityFigure.Summary? = nil, precision: String? = nil) {
        self.identity = identity
        self.precision = precision
    }
}
