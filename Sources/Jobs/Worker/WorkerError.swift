/// Failures of a job attempt that come from the worker rather than the job kind.
public enum WorkerError: Error, Equatable, CustomStringConvertible {
    case unknownKind(String)
    case outputOutsideRoot(output: String, root: String)
    case outputRootMismatch(stored: String, configured: String)
    case outputMissing(String)
    case cannotPlaceOutput(String, String)
    case staging(String)

    public var description: String {
        switch self {
        case .unknownKind(let name): return "this worker does not know job kind '\(name)'"
        case .outputOutsideRoot(let output, let root): return "output \(output) is outside its output root \(root); refusing to write"
        case .outputRootMismatch(let stored, let configured):
            return "the job was enqueued for output root \(stored) but this worker writes only inside \(configured) (--output-root); refusing to write"
        case .outputMissing(let path): return "the job finished without writing its output (\(path))"
        case .cannotPlaceOutput(let path, let reason): return "cannot move the finished output to \(path): \(reason)"
        case .staging(let reason): return "cannot prepare the output folder: \(reason)"
        }
    }
}
