// Typed errors for model loading and running; each message names the file or tensor at fault.

/// One problem found while checking a state dict against the architecture it should describe.
public enum WeightProblem: Sendable, Hashable, CustomStringConvertible {
    case missing(name: String, expected: [Int])
    case unexpected(name: String, shape: [Int])
    case misshaped(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .missing(name, expected): return "missing \(name) (expected shape \(expected))"
        case let .unexpected(name, shape): return "unexpected \(name) (shape \(shape))"
        case let .misshaped(name, expected, found): return "\(name): expected shape \(expected), found \(found)"
        }
    }
}

public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The weights do not match the architecture; every problem is listed.
    case weights(file: String, problems: [WeightProblem])
    /// Key tensors needed to read the architecture off the weights are absent or inconsistent.
    case cannotInferArchitecture(file: String, reason: String)
    case badManifest(file: String, reason: String)
    case notABundle(path: String)
    case badInput(file: String, tensor: String, reason: String)

    public var description: String {
        switch self {
        case let .weights(file, problems):
            return "\(file): \(problems.count) weight problem\(problems.count == 1 ? "" : "s"):\n"
                + problems.map { "  - \($0)" }.joined(separator: "\n")
        case let .cannotInferArchitecture(file, reason): return "\(file): cannot read the EG3D architecture: \(reason)"
        case let .badManifest(file, reason): return "\(file): invalid model.json: \(reason)"
        case let .notABundle(path):
            return "\(path): not a model bundle (expected a folder with model.json and weights.safetensors, or a .safetensors file)"
        case let .badInput(file, tensor, reason): return "\(file): input '\(tensor)': \(reason)"
        }
    }
}
