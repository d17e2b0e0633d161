import Foundation
import Tensors
import Video

/// The clip a track was encoded from: enough to refuse rendering it against anything else.
public struct TrackSource: Codable, Sendable, Equatable {
    public var path: String
    public var fileSize: Int64
    /// SHA-256 of the file's bytes.
    public var contentHash: String
    public var width: Int
    public var height: Int
    public var frameRate: Rational
    public var timeBase: Rational
    /// Range of the source the track covers, in seconds from its start.
    public var start: Double
    public var duration: Double?

    public init(path: String, fileSize: Int64, contentHash: String, width: Int, height: Int,
                frameRate: Rational, timeBase: Rational, start: Double = 0, duration: Double? = nil) {
        self.path = path; self.fileSize = fileSize; self.contentHash = contentHash
        self.width = width; self.height = height; self.frameRate = frameRate; self.timeBase = timeBase
        self.start = start; self.duration = duration
    }

    /// Describes the file at `url` as it is now.
    public static func describe(_ url: URL, width: Int, height: Int, frameRate: Rational, timeBase: Rational,
                                start: Double = 0, duration: Double? = nil) throws -> TrackSource {
        let attrs = try FileManager.default.attributesOfItem(atPath: url.path)
        return TrackSource(path: url.path, fileSize: (attrs[.size] as? NSNumber)?.int64Value ?? 0,
                           contentHash: try Video.contentHash(of: url), width: width, height: height,
                           frameRate: frameRate, timeBase: timeBase, start: start, duration: duration)
    }
}

public enum TrackError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case notATrack(path: String, reason: String)
    case sourceMismatch(track: String, source: String, reason: String)
    case modelMismatch(track: String, trackModel: String, model: String)
    case shapeMismatch(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(p, r): return "\(p): cannot read the latent track (\(r))"
        case let .notATrack(p, r): return "\(p): not an avatarize latent track (\(r))"
        case let .sourceMismatch(t, s, r): return "\(t): this track was not encoded from \(s) (\(r)); encode it again with `avatarize encode`"
        case let .modelMismatch(t, a, b): return "\(t): encoded with model '\(a)', but '\(b)' was asked for; encode it again or pick that model"
        case let .shapeMismatch(p, r): return "\(p): \(r)"
        }
    }
}

/// Per frame: the W+ code (numWs × wDim), the camera (25 numbers, EG3D convention), the alignment quad
/// (4 corners, x/y in source pixels), the presentation time and whether a face was found (filled frames
/// carry interpolated values). Stored column by column so a track of any length is a handful of arrays.
/// On disk it is a safetensors file: tensors `codes`, `cameras`, `quads`, `face_found`, `times`; metadata
/// holds the source, the model, exact timestamps and the format version.
public struct LatentTrack: Sendable, Equatable {
    public static let format = "avatarize-latent-track/1"

    public var source: TrackSource
    /// Identity of the encoder (and source generator) that made the codes, e.g. "name@weights-sha256".
    public var model: String
    public var numWs: Int
    public var wDim: Int
    public private(set) var codes: [Float] = []
    public private(set) var cameras: [Float] = []
    public private(set) var quads: [Float] = []
    public private(set) var pts: [Int64] = []
    public private(set) var faceFound: [Bool] = []
    /// The 68 landmarks per frame (x, y in source pixels), for pasting the avatar back under a face mask.
    public private(set) var landmarks: [Float] = []

    public init(source: TrackSource, model: String, numWs: Int = 14, wDim: Int = 512) {
        self.source = source; self.model = model; self.numWs = numWs; self.wDim = wDim
    }

    public var count: Int { pts.count }
    public var codeSize: Int { numWs * wDim }

    public mutating func append(code: [Float], camera: [Float], quad: [Float], landmarks lm: [Float]? = nil,
                                pts: Int64, faceFound: Bool) {
        precondition(code.count == codeSize && camera.count == 25 && quad.count == 8, "track frame has the wrong shape")
        precondition(lm == nil || lm!.count == 136, "68 landmarks are 136 numbers")
        codes += code; cameras += camera; quads += quad
        landmarks += lm ?? [Float](repeating: 0, count: 136)
        self.pts.append(pts); self.faceFound.append(faceFound)
    }

    public func landmarks(_ i: Int) -> ArraySlice<Float> { landmarks[(i * 136)..<((i + 1) * 136)] }

    public func code(_ i: Int) -> ArraySlice<Float> { codes[(i * codeSize)..<((i + 1) * codeSize)] }
    public func camera(_ i: Int) -> ArraySlice<Float> { cameras[(i * 25)..<((i + 1) * 25)] }
    public func quad(_ i: Int) -> ArraySlice<Float> { quads[(i * 8)..<((i + 1) * 8)] }
    public func seconds(_ i: Int) -> Double { Double(pts[i]) * source.timeBase.value }

    public mutating func replaceCodes(_ new: [Float]) { precondition(new.count == codes.count); codes = new }
    public mutating func replaceCameras(_ new: [Float]) { precondition(new.count == cameras.count); cameras = new }
    public mutating func replaceQuads(_ new: [Float]) { precondition(new.count == quads.count); quads = new }

    /// Appends every frame of `other`, a later segment of the same clip encoded with the same model.
    public mutating func append(contentsOf other: LatentTrack) {
        precondition(other.source == source && other.model == model && other.codeSize == codeSize,
                     "segments of different clips or models cannot be joined")
        codes += other.codes; cameras += other.cameras; quads += other.quads; landmarks += other.landmarks
        pts += other.pts; faceFound += other.faceFound
    }

    /// Frames `range` as a track of their own (for segments).
    public func slice(_ range: Range<Int>) -> LatentTrack {
        var t = LatentTrack(source: source, model: model, numWs: numWs, wDim: wDim)
        for i in range {
            t.append(code: Array(code(i)), camera: Array(camera(i)), quad: Array(quad(i)), landmarks: Array(landmarks(i)),
                     pts: pts[i], faceFound: faceFound[i])
        }
        return t
    }

    // MARK: disk

    private struct Header: Codable {
        var format: String
        var source: TrackSource
        var model: String
        var numWs: Int
        var wDim: Int
        var pts: [Int64]
    }

    /// Writes atomically (temporary file, then rename).
    public func save(to url: URL) throws {
        let header = Header(format: Self.format, source: source, model: model, numWs: numWs, wDim: wDim, pts: pts)
        let json = String(decoding: try JSONEncoder().encode(header), as: UTF8.self)
        let n = count
        let tensors: [String: Tensor] = [
            "codes": Tensor(shape: [n, numWs, wDim], data: codes),
            "cameras": Tensor(shape: [n, 25], data: cameras),
            "quads": Tensor(shape: [n, 4, 2], data: quads),
            "face_found": Tensor(shape: [n], data: faceFound.map { $0 ? 1 : 0 }),
            "landmarks": Tensor(shape: [n, 68, 2], data: landmarks),
            "times": Tensor(shape: [n], data: (0..<n).map { Float(seconds($0)) }),
        ]
        try SafeTensorsWriter.write(tensors, to: url, metadata: ["avatarize": json])
    }

    public static func load(from url: URL) throws -> LatentTrack {
        guard FileManager.default.fileExists(atPath: url.path) else { throw TrackError.unreadable(path: url.path, reason: "no such file") }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(url: url) } catch {
            throw TrackError.notATrack(path: url.path, reason: "\(error)")
        }
        guard let json = file.metadata["avatarize"],
              let header = try? JSONDecoder().decode(Header.self, from: Data(json.utf8)) else {
            throw TrackError.notATrack(path: url.path, reason: "no avatarize header")
        }
        guard header.format == format else {
            throw TrackError.notATrack(path: url.path, reason: "format \(header.format), expected \(format)")
        }
        let n = header.pts.count
        func read(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let s = file.shape(of: name) else { throw TrackError.notATrack(path: url.path, reason: "tensor '\(name)' missing") }
            guard s == shape else {
                throw TrackError.shapeMismatch(path: url.path, reason: "tensor '\(name)' has shape \(s), expected \(shape)")
            }
            return try file.tensor(name).data
        }
        var t = LatentTrack(source: header.source, model: header.model, numWs: header.numWs, wDim: header.wDim)
        t.codes = try read("codes", [n, header.numWs, header.wDim])
        t.cameras = try read("cameras", [n, 25])
        t.quads = try read("quads", [n, 4, 2])
        t.faceFound = try read("face_found", [n]).map { $0 != 0 }
        t.landmarks = try read("landmarks", [n, 68, 2])
        t.pts = header.pts
        return t
    }

    /// Refuses a track whose source file or model is not the one given.
    public func check(source url: URL, model: String?, trackPath: String) throws {
        let attrs = try? FileManager.default.attributesOfItem(atPath: url.path)
        let size = (attrs?[.size] as? NSNumber)?.int64Value
        guard let size else { throw TrackError.sourceMismatch(track: trackPath, source: url.path, reason: "the source file is missing") }
        if size != source.fileSize {
            throw TrackError.sourceMismatch(track: trackPath, source: url.path, reason: "size \(size) bytes, the track's source had \(source.fileSize)")
        }
        let hash = try Video.contentHash(of: url)
        if hash != source.contentHash {
            throw TrackError.sourceMismatch(track: trackPath, source: url.path, reason: "its content differs (SHA-256)")
        }
        if let model, model != self.model {
            throw TrackError.modelMismatch(track: trackPath, trackModel: self.model, model: model)
        }
    }
}
