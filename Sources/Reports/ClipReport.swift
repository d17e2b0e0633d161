import Foundation
import Pipeline

/// Everything the per-clip HTML report shows, gathered while the clip was rendered (`ClipReportRecorder`).
/// Codable so that a report's numbers can be kept or compared without parsing the page.
public struct ClipReport: Codable, Sendable, Equatable {
    /// One labelled setting of the run (style, camera, layout, smoothing).
    public struct Setting: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) { self.name = name; self.value = value }
    }

    /// Head pose per frame in radians: as tracked (before the track's smoothing), after smoothing, and the
    /// camera the style generator actually rendered from (which the camera mode may clamp or replace).
    public struct Pose: Codable, Sendable, Equatable {
        public var rawYaw: [Double] = [], rawPitch: [Double] = [], rawRoll: [Double] = []
        public var smoothedYaw: [Double] = [], smoothedPitch: [Double] = [], smoothedRoll: [Double] = []
        public var cameraYaw: [Double] = [], cameraPitch: [Double] = []
        public init() {}
    }

    /// Mean frame-to-frame distance of the W+ codes of a group of layers, before and after smoothing.
    public struct LayerGroupJitter: Codable, Sendable, Equatable {
        public var name: String
        public var firstLayer: Int
        public var lastLayer: Int
        public var before: Double
        public var after: Double
    }

    /// Where a face was found and where it was filled in from neighbours. Subject changes and shot cuts are
    /// shown only when whoever made the track recorded them (`nil`: not known, as opposed to none).
    public struct FaceTimeline: Codable, Sendable, Equatable {
        public var found: [Bool] = []
        public var subjectChanges: [Int]? = nil
        public var shotCuts: [Int]? = nil
        public init() {}
        public var foundCount: Int { found.lazy.filter { $0 }.count }
        public var filledCount: Int { found.count - foundCount }
    }

    /// Seconds spent in one stage of one pass (`encode` or `render`); `depth` 1 marks a part of the stage above.
    public struct StageTime: Codable, Sendable, Equatable {
        public var pass: String
        public var name: String
        public var seconds: Double
        public var depth: Int
    }

    /// One moment of the contact sheet: pictures as `data:image/png;base64,…` URLs.
    public struct Moment: Codable, Sendable, Equatable {
        public var index: Int
        public var seconds: Double
        public var source: String?
        public var crop: String?
        public var avatar: String
    }

    /// An edit's strength per frame (semantic direction, StyleSpace channel or geometry α).
    public struct EditCurve: Codable, Sendable, Equatable {
        public var name: String
        public var values: [Double]
        public var keyframes: String
    }

    /// The identity figure (Pipeline's `IdentityFigure`): dlib's face descriptors of the source's face and of the
    /// avatar's compared frame by frame, and the figure over the clip.
    public struct Identity: Codable, Sendable, Equatable {
        public var summary: IdentityFigure.Summary
        /// One per rendered frame, in order.
        public var outcomes: [IdentityFigure.FrameOutcome]

        public init(_ figure: IdentityFigure) { summary = figure.summary; outcomes = figure.outcomes }
        public init(outcomes: [IdentityFigure.FrameOutcome]) { summary = IdentityFigure.Summary(outcomes: outcomes); self.outcomes = outcomes }

        /// The descriptor distance per frame; not a number where the frame was not compared.
        public var distances: [Double] {
            outcomes.map { if case let .compared(_, d) = $0 { return d } else { return .nan } }
        }
    }

    public var title: String
    public var input: String?
    public var output: String
    public var created: Date
    public var frames: Int
    public var width: Int
    public var height: Int
    public var settings: [Setting]
    /// Seconds from the first frame, one per frame; the x axis of every per-frame chart.
    public var times: [Double]
    public var pose: Pose
    public var jitter: [LayerGroupJitter]
    public var faces: FaceTimeline
    public var stages: [StageTime]
    public var totalSeconds: Double
    public var moments: [Moment]
    public var edits: [EditCurve]
    public var identity: Identity?
    public var notes: [String]

    /// Frames per second over the whole run (encode and render).
    public var framesPerSecond: Double { totalSeconds > 0 ? Double(frames) / totalSeconds : 0 }
}
