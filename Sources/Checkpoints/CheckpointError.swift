// Typed errors of checkpoint reading and importing; every message names the file and the problem.

public enum CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The pickle names a global outside the allow-list (importing it would run foreign code).
    case forbiddenGlobal(file: String, name: String)
    /// The pickle stream is cut short, holds an unknown opcode or an impossible stack state.
    case malformedPickle(file: String, offset: Int, reason: String)
    /// A zip archive or legacy torch.save file does not have the expected structure.
    case malformedArchive(file: String, reason: String)
    /// A tensor refers to storage it cannot have (missing record, out-of-bounds view, unknown dtype).
    case badTensor(file: String, name: String, reason: String)
    /// The file's format is not one of those the importer reads.
    case unknownFormat(file: String, reason: String)
    /// The checkpoint reads, but it is not a model the importer supports (named).
    case unsupportedModel(file: String, reason: String)
    /// The checkpoint's content contradicts itself or the model it should describe.
    case invalidModel(file: String, reason: String)
    /// The output bundle could not be written.
    case output(path: String, reason: String)

    public var description: String {
        switch self {
        case let .forbiddenGlobal(file, name):
            return "\(file): refused: the pickle references '\(name)', which is not on the importer's allow-list of torch/numpy/EG3D names (loading it with pickle would run that code)"
        case let .malformedPickle(file, offset, reason): return "\(file): malformed pickle at byte \(offset): \(reason)"
        case let .malformedArchive(file, reason): return "\(file): malformed checkpoint archive: \(reason)"
        case let .badTensor(file, name, reason): return "\(file): tensor '\(name)': \(reason)"
        case let .unknownFormat(file, reason): return "\(file): not a checkpoint the importer reads: \(reason)"
        case let .unsupportedModel(file, reason): return "\(file): unsupported model: \(reason)"
        case let .invalidModel(file, reason): return "\(file): \(reason)"
        case let .output(path, reason): return "\(path): cannot write the bundle: \(reason)"
        }
    }
}
