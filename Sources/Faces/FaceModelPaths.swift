import Foundation

/// Where the face models are: Debian's standard paths (`opencv-data`, `libdlib-data`), or one folder
/// that holds all of them, given by `--face-models DIR` or the `AVATARIZE_FACE_MODELS` environment
/// variable (the flag wins). The face recognition network is not packaged by Debian: it is looked for in
/// that folder, else in the model cache (`$AVATARIZE_CACHE/faces`, `$XDG_CACHE_HOME/avatarize/faces` or
/// `~/.cache/avatarize/faces`), where scripts/install-deps.sh puts it.
public struct FaceModelPaths: Sendable, Equatable {
    public static let environmentVariable = "AVATARIZE_FACE_MODELS"
    public static let debianCascadeDirectory = "/usr/share/opencv4/haarcascades"
    public static let debianPredictorDirectory = "/usr/share/dlib"

    public static let frontalCascadeName = "haarcascade_frontalface_default.xml"
    public static let frontalAltCascadeName = "haarcascade_frontalface_alt2.xml"
    public static let profileCascadeName = "haarcascade_profileface.xml"
    public static let predictorName = "shape_predictor_68_face_landmarks.dat"

    public var frontalCascade: String
    public var frontalAltCascade: String
    public var profileCascade: String
    public var predictor: String
    public var recognizer: String

    /// `directory` (or, when nil, the environment variable) overrides the Debian locations.
    public init(directory: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let dir = directory ?? environment[Self.environmentVariable], !dir.isEmpty {
            frontalCascade = (dir as NSString).appendingPathComponent(Self.frontalCascadeName)
            frontalAltCascade = (dir as NSString).appendingPathComponent(Self.frontalAltCascadeName)
            profileCascade = (dir as NSString).appendingPathComponent(Self.profileCascadeName)
            predictor = (dir as NSString).appendingPathComponent(Self.predictorName)
            recognizer = Self.recognizerPath(folder: dir, environment: environment)
        } else {
            frontalCascade = "\(Self.debianCascadeDirectory)/\(Self.frontalCascadeName)"
            frontalAltCascade = "\(Self.debianCascadeDirectory)/\(Self.frontalAltCascadeName)"
            profileCascade = "\(Self.debianCascadeDirectory)/\(Self.profileCascadeName)"
            predictor = "\(Self.debianPredictorDirectory)/\(Self.predictorName)"
            recognizer = Self.recognizerPath(folder: nil, environment: environment)
        }
    }

    /// The first of: the models folder, the model cache, the default cache in the home folder (a cache
    /// moved for the demo models may not hold it) that has the network; else where the cache would.
    static func recognizerPath(folder: String?, environment: [String: String]) -> String {
        let name = FaceRecognizer.modelName
        var candidates: [String] = []
        if let folder { candidates.append((folder as NSString).appendingPathComponent(name)) }
        candidates.append(Self.cacheDirectory(environment: environment).appendingPathComponent(name).path)
        candidates.append(Self.cacheDirectory(environment: [:]).appendingPathComponent(name).path)
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[folder == nil ? 0 : 1]
    }

    /// The model cache's faces folder (the same base as the demo models' cache).
    public static func cacheDirectory(environment: [String: String]) -> URL {
        if let c = environment["AVATARIZE_CACHE"], !c.isEmpty {
            return URL(fileURLWithPath: c).appendingPathComponent("faces")
        }
        if let x = environment["XDG_CACHE_HOME"], !x.isEmpty {
            return URL(fileURLWithPath: x).appendingPathComponent("avatarize/faces")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/avatarize/faces")
    }
}
