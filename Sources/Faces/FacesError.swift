import Foundation

/// Everything that can go wrong in Faces, with messages meant for the person running avatarize.
public enum FacesError: Error, CustomStringConvertible, Equatable {
    /// A model file is not where it was looked for. `package` is the Debian package that ships it.
    case modelMissing(path: String, package: String)
    case cascadeUnreadable(path: String, reason: String)
    case cascadeUnsupported(path: String, reason: String)
    case predictorUnreadable(path: String, reason: String)
    /// The face recognition network (for identity descriptors) is not where it was looked for.
    case recognizerMissing(path: String)
    case recognizerUnreadable(path: String, reason: String)
    /// Not a single frame of the clip had a detectable face.
    case noFaceInClip(frames: Int)
    case invalidArgument(String)
    /// The face pass's measurements file cannot be written (disk full, no permission, a frame that does
    /// not fit the record).
    case measurementsUnwritable(path: String, reason: String)
    /// The face pass's measurements file is missing, damaged, or of another format or version.
    case measurementsUnreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .modelMissing(path, package):
            return "face model not found: \(path). Install it with `apt-get install \(package)`, or point "
                + "`--face-models DIR` (or AVATARIZE_FACE_MODELS) at a folder that holds it."
        case let .cascadeUnreadable(path, reason):
            return "cannot read the Haar cascade \(path): \(reason)"
        case let .cascadeUnsupported(path, reason):
            return "unsupported Haar cascade \(path): \(reason)"
        case let .predictorUnreadable(path, reason):
            return "cannot read the dlib shape predictor \(path): \(reason)"
        case let .recognizerMissing(path):
            return "face recognition model not found: \(path). scripts/install-deps.sh fetches it (PyPI "
                + "face_recognition_models 0.3.0) into the model cache; or put \(FaceRecognizer.modelName) in the "
                + "folder given by `--face-models DIR`."
        case let .recognizerUnreadable(path, reason):
            return "cannot read the face recognition model \(path): \(reason)"
        case let .noFaceInClip(frames):
            return "no face was found in any of the \(frames) frames; avatarize needs a visible, roughly frontal face"
        case let .invalidArgument(message):
            return message
        case let .measurementsUnwritable(path, reason):
            return "cannot write the face measurements \(path): \(reason)"
        case let .measurementsUnreadable(path, reason):
            return "cannot read the face measurements \(path): \(reason); delete it and run the face pass again"
        }
    }
}
