// Typed errors of the e4e encoder: loading (file and tensor named in every message) and running.

public enum EncoderLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The state dict does not match the Encoder4Editing layout; every problem is listed at once.
    case weights(file: String, problems: [WeightProblem])
    /// The tensors that give the widths are absent, so the layout cannot be read off the weights.
    case cannotInferArchitecture(file: String, reason: String)
    /// A bundle's model.json is unreadable or contradicts the weights.
    case badManifest(file: String, reason: String)
    /// The path is neither a bundle folder (model.json + weights.safetensors) nor a .safetensors file.
    case notAnEncoderBundle(path: String)
    /// Two checkpoint keys map to the same official name after the prefix renames.
    case duplicateKey(file: String, name: String, sources: [String])

    public var description: String {
        switch self {
        case let .weights(file, problems):
            return "\(file): the weights do not match the encoder's layout: \(problems.count) weight problem\(problems.count == 1 ? "" : "s"):\n"
                + problems.map { "  - \($0)" }.joined(separator: "\n")
        case let .cannotInferArchitecture(file, reason):
            return "\(file): cannot read the encoder's layout from its weights: \(reason)"
        case let .badManifest(file, reason): return "\(file): invalid encoder model.json: \(reason)"
        case let .notAnEncoderBundle(path):
            return "\(path): not an encoder bundle (expected a folder with model.json and weights.safetensors, or a .safetensors file; import e4e / PREIM3D checkpoints with `avatarize models import`)"
        case let .duplicateKey(file, name, sources):
            return "\(file): tensors \(sources.map { "'\($0)'" }.joined(separator: " and ")) both name '\(name)' after removing key prefixes"
        }
    }
}

public enum EncoderInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The image is not [3, size, size] (or [1, 3, size, size]) at the encoder's input size.
    case badImageShape(found: [Int], expected: [Int])

    public var description: String {
        switch self {
        case let .badImageShape(found, expected):
            return "encoder: input has shape \(found), expected \(expected) (an aligned RGB crop in [-1, 1], or the tri-plane encoder's stacked images and planes)"
        }
    }
}
