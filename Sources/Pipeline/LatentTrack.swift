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
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(p, r): return "\(p): cannot read the latent track (\(r))"
        case let .notATrack(p, r): return "\(p): not an avatarize latent track (\(r))"
        case let .sourceMismatch(t, s, r): return "\(t): this track was not encoded from \(s) (\(r)); encode it again with `avatarize encode`"
        case let .modelMismatch(t, a, b): return "\(t): encoded with model '\(a)', but '\(b)' was asked for; encode it again or pick that model"
        case let .shapeMismatch(p, r): return "\(p): \(r)"
        case let .unwritable(p, r): return "\(p): cannot write the latent track (\(r))"
        }
    }
}

/// One frame of a latent track: the W+ code (numWs × wDim), the camera (25 numbers, EG3D convention), the
/// alignment quad (4 corners, x/y in source pixels), the 68 landmarks (x, y in source pixels, for pasting
/// the avatar back under a face mask), the presentation time and whether a face was found (filled frames
/// carry interpolated values).
public struct TrackFrame: Sendable, Equatable {
    public var code: [Float]
    public var camera: [Float]
    public var quad: [Float]
    public var landmarks: [Float]
    public var pts: Int64
    public var faceFound: Bool

    public init(code: [Float], camera: [Float], quad: [Float], landmarks: [Float]? = nil, pts: Int64, faceFound: Bool) {
        self.code = code; self.camera = camera; self.quad = quad
        self.landmarks = landmarks ?? [Float](repeating: 0, count: 136)
        self.pts = pts; self.faceFound = faceFound
    }
}

/// A latent track on disk, read a frame at a time so that a clip of any length costs the same memory.
/// The file is safetensors: tensors `codes` [n, numWs, wDim], `cameras` [n, 25], `quads` [n, 4, 2],
/// `landmarks` [n, 68, 2], `face_found` [n], `times` [n] (seconds, for readers in other languages) and
/// `pts` [n] (I64, exact timestamps in the source's time base); the metadata entry `avatarize` holds the
/// source, the model and the format version. `LatentTrackWriter` makes one.
public final class LatentTrack: @unchecked Sendable {
    public static let format = "avatarize-latent-track/2"

    public let url: URL
    public let source: TrackSource
    /// Identity of the encoder (and source generator) that made the codes, e.g. "name@weights-sha256".
    public let model: String
    public let numWs: Int
    public let wDim: Int
    public let count: Int
    /// Frames where a face was found (the others were filled from their neighbours).
    public let facesFound: Int
    public var codeSize: Int { numWs * wDim }

    private let fd: Int32
    private let columns: [String: Range<Int>]

    struct Header: Codable {
        var format: String
        var source: TrackSource
        var model: String
        var numWs: Int
        var wDim: Int
        var count: Int
        var facesFound: Int
    }

    /// The tensors of a track of `n` frames: name, element shape per frame, dtype.
    static func layout(numWs: Int, wDim: Int) -> [(name: String, perFrame: [Int], dtype: SafeTensorsDType)] {
        [("codes", [numWs, wDim], .f32), ("cameras", [25], .f32), ("face_found", [], .f32), ("landmarks", [68, 2], .f32),
         ("pts", [], .i64), ("quads", [4, 2], .f32), ("times", [], .f32)]
    }

    /// Opens the track at `url`, checking its header and the shape of every tensor.
    public static func load(from url: URL) throws -> LatentTrack { try LatentTrack(url: url) }

    public init(url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { throw TrackError.unreadable(path: url.path, reason: "no such file") }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(url: url) } catch {
            throw TrackError.notATrack(path: url.path, reason: "\(error)")
        }
        guard let json = file.metadata["avatarize"],
              let header = try? JSONDecoder().decode(Header.self, from: Data(json.utf8)) else {
            if file.metadata["avatarize"]?.contains("avatarize-latent-track/1") == true {
                throw TrackError.notATrack(path: url.path, reason: "made by an older avatarize (format 1); encode the clip again")
            }
            throw TrackError.notATrack(path: url.path, reason: "no avatarize header")
        }
        guard header.format == Self.format else {
            throw TrackError.notATrack(path: url.path, reason: "format \(header.format), expected \(Self.format)")
        }
        // The tensors' shapes bound these only when there is a frame: an empty track could claim any code
        // size, and numWs × wDim (codeSize) then overflowed.
        let (size, overflow) = header.numWs.multipliedReportingOverflow(by: header.wDim)
        guard header.numWs > 0, header.wDim > 0, !overflow, size <= 1 << 24, header.count >= 0, (0...header.count).contains(header.facesFound) else {
            throw TrackError.notATrack(path: url.path, reason: "header gives \(header.numWs) × \(header.wDim) codes, \(header.count) frames, \(header.facesFound) faces found")
        }
        var columns: [String: Range<Int>] = [:]
        for (name, perFrame, dtype) in Self.layout(numWs: header.numWs, wDim: header.wDim) {
            guard let e = file.entries[name] else { throw TrackError.notATrack(path: url.path, reason: "tensor '\(name)' missing") }
            let shape = [header.count] + perFrame
            guard e.shape == shape, e.dtype == dtype else {
                throw TrackError.shapeMismatch(path: url.path, reason: "tensor '\(name)' is \(e.dtype.rawValue) \(e.shape), expected \(dtype.rawValue) \(shape)")
            }
            columns[name] = e.byteRange
        }
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TrackError.unreadable(path: url.path, reason: String(cString: strerror(errno))) }
        self.fd = fd
        self.url = url
        self.columns = columns
        source = header.source; model = header.model; numWs = header.numWs; wDim = header.wDim
        count = header.count; facesFound = header.facesFound
    }

    deinit { close(fd) }

    /// Reads `count` elements of `size` bytes from column `name`, starting at element `first`.
    private func read<T>(_ name: String, _ type: T.Type, first: Int, count: Int) throws -> [T] {
        let range = columns[name]!
        let size = MemoryLayout<T>.stride
        var out = [T](unsafeUninitializedCapacity: count) { _, n in n = count }
        let want = count * size
        let got = out.withUnsafeMutableBytes { buf -> Int in
            var done = 0
            while done < want {
                let r = pread(fd, buf.baseAddress! + done, want - done, off_t(range.lowerBound + first * size + done))
                if r <= 0 { return r < 0 ? -1 : done }
                done += r
            }
            return done
        }
        guard got == want else {
            throw TrackError.unreadable(path: url.path, reason: got < 0 ? String(cString: strerror(errno)) : "the file is shorter than its header says")
        }
        return out
    }

    /// Frame `i`.
    public func frame(_ i: Int) throws -> TrackFrame {
        precondition(i >= 0 && i < count, "frame \(i) is outside the track's \(count)")
        return TrackFrame(code: try read("codes", Float.self, first: i * codeSize, count: codeSize),
                          camera: try read("cameras", Float.self, first: i * 25, count: 25),
                          quad: try read("quads", Float.self, first: i * 8, count: 8),
                          landmarks: try read("landmarks", Float.self, first: i * 136, count: 136),
                          pts: try pts(i), faceFound: try read("face_found", Float.self, first: i, count: 1)[0] != 0)
    }

    /// Presentation time of frame `i` in the source's time base.
    public func pts(_ i: Int) throws -> Int64 { Int64(littleEndian: try read("pts", Int64.self, first: i, count: 1)[0]) }

    /// Presentation time of frame `i` in seconds.
    public func seconds(_ i: Int) throws -> Double { Double(try pts(i)) * source.timeBase.value }

    /// The codes of frames `range` (frame-major), for tools and tests that look at a stretch of the track.
    public func codes(_ range: Range<Int>) throws -> [Float] {
        try read("codes", Float.self, first: range.lowerBound * codeSize, count: range.count * codeSize)
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
