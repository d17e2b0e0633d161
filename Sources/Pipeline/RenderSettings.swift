import Foundation

/// Where the avatar's camera is, per frame.
public enum CameraMode: Sendable, Equatable {
    /// The smoothed head pose, clamped to the style's safe range (3DAvatarGAN, Abdal et al. 2023: yaw ±0.45, pitch ±0.35).
    case follow
    case frontal
    /// A turntable over the clip: yaw sweeps ±0.45 rad once over `seconds` (default: the clip's length).
    case orbit(seconds: Double?)
    case fixed(yaw: Double, pitch: Double)

    /// `follow`, `frontal`, `orbit`, `orbit:SECONDS`, `YAW,PITCH` (radians).
    public init?(argument: String) {
        let a = argument.lowercased()
        if a == "follow" { self = .follow }
        else if a == "frontal" { self = .frontal }
        else if a == "orbit" { self = .orbit(seconds: nil) }
        else if a.hasPrefix("orbit:"), let s = Double(a.dropFirst(6)), s > 0 { self = .orbit(seconds: s) }
        else {
            let p = a.split(separator: ",").compactMap { Double($0) }
            guard p.count == 2 else { return nil }
            self = .fixed(yaw: p[0], pitch: p[1])
        }
    }

    /// The method's safe pose range around frontal for artistic styles.
    public static let yawLimit = 0.45
    public static let pitchLimit = 0.35
}

/// What the output video shows.
public enum Layout: String, Sendable, CaseIterable {
    /// The rendered avatar alone (square, the generator's resolution).
    case avatar
    /// The aligned source face beside the avatar.
    case sideBySide = "side-by-side"
    /// The full source frame with the face replaced by the avatar.
    case pasteBack = "paste-back"
}

/// One offset of a single StyleSpace channel, in units of that channel's standard deviation
/// (`--style-edit LAYER:CHANNEL=VALUE`, LAYER an affine's name such as `b16.conv0` or its index).
public struct StyleChannelEdit: Sendable, Equatable {
    public var layer: String
    public var channel: Int
    public var value: EditValue

    public init(layer: String, channel: Int, value: EditValue) { self.layer = layer; self.channel = channel; self.value = value }

    public init?(argument: String) {
        guard let eq = argument.firstIndex(of: "="), let colon = argument[..<eq].lastIndex(of: ":"),
              let ch = Int(argument[argument.index(after: colon)..<eq]), ch >= 0,
              let v = EditValue(parsing: String(argument[argument.index(after: eq)...])) else { return nil }
        let layer = String(argument[..<colon])
        guard !layer.isEmpty else { return nil }
        self.init(layer: layer, channel: ch, value: v)
    }
}

/// Everything `render` (and `run`) can be asked for.
public struct RenderSettings: Sendable {
    public var smoothing = TrackSmoothing()
    public var edits: [NamedEdit] = []
    public var directions: DirectionLibrary? = nil
    public var styleEdits: [StyleChannelEdit] = []
    /// Geometry strength α: early-layer styles s_source + α·(s_style − s_source); nil leaves the style's own.
    public var geometry: EditValue? = nil
    /// Thin-plate-spline warp of the front tri-plane.
    public var planeWarp: ThinPlateSpline? = nil
    public var camera: CameraMode = .follow
    public var layout: Layout = .avatar
    /// Also write the depth as a grey video here.
    public var depthOutput: URL? = nil
    public var crf = 18
    public var preset = "medium"
    public var keepAudio = true
    /// With a refining encoder (TriPlaneNet) and the source style, render every frame from tri-planes refined on
    /// that frame's crop (AvatarModels.refinesPlanes); false renders the W+ codes alone (a full-size frame costs 2.3–2.5×
    /// less: README, Benchmarks).
    public var refinePlanes = true
    /// Rendered frames that may wait behind the generator for compositing, observers and video encoding
    /// (`BehindStage`); 0 does that work in the frame loop itself.
    public var framesInFlight = 2

    public init() {}
}
