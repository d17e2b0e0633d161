import Foundation
import Tensors
import Video

/// Writes a latent track frame by frame without holding it in memory: the codes go straight into the
/// data section of a temporary sibling of the destination (the header's space is reserved up front, since
/// the frame count is known only at the end), the small per-frame columns into a spool file beside it.
/// `finish` appends the columns, writes the header and renames the file into place, so a crash or a
/// cancel never leaves a half-written track.
public final class LatentTrackWriter {
    public let url: URL
    public let source: TrackSource
    public let model: String
    public let numWs: Int
    public let wDim: Int
    public private(set) var count = 0
    private var facesFound = 0

    private let temporary: URL
    private let spoolURL: URL
    private var file: FileHandle?
    private var spool: FileHandle?
    private let headerSpace: Int

    /// Floats per frame in the spool: camera 25, quad 8, landmarks 136, face flag, seconds; then the pts.
    private static let spoolFloats = 25 + 8 + 136 + 1 + 1
    private static let spoolRecord = spoolFloats * 4 + 8

    public init(url: URL, source: TrackSource, model: String, numWs: Int, wDim: Int) throws {
        self.url = url; self.source = source; self.model = model; self.numWs = numWs; self.wDim = wDim
        temporary = temporarySibling(of: url)
        spoolURL = temporary.appendingPathExtension("columns")
        // The longest header this track can need: every count and offset at its widest.
        headerSpace = (try Self.header(source: source, model: model, numWs: numWs, wDim: wDim,
                                       count: 999_999_999_999, facesFound: 999_999_999_999).count + 7) / 8 * 8
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
              FileManager.default.createFile(atPath: spoolURL.path, contents: nil),
              let f = FileHandle(forWritingAtPath: temporary.path), let s = FileHandle(forWritingAtPath: spoolURL.path) else {
            try? FileManager.default.removeItem(at: temporary)
            try? FileManager.default.removeItem(at: spoolURL)
            throw TrackError.unwritable(path: url.path, reason: "cannot create files in \(url.deletingLastPathComponent().path)")
        }
        file = f; spool = s
        try wrap { try f.seek(toOffset: UInt64(8 + headerSpace)) }
    }

    deinit { if file != nil { cancel() } }

    public var codeSize: Int { numWs * wDim }

    public func append(_ frame: TrackFrame) throws {
        precondition(frame.code.count == codeSize && frame.camera.count == 25 && frame.quad.count == 8, "track frame has the wrong shape")
        precondition(frame.landmarks.count == 136, "68 landmarks are 136 numbers")
        guard let file, let spool else { preconditionFailure("append after finish or cancel") }
        let seconds = Float(Double(frame.pts) * source.timeBase.value)
        let small = frame.camera + frame.quad + frame.landmarks + [frame.faceFound ? 1 : 0, seconds]
        var pts = frame.pts.littleEndian
        // Floats are written in the machine's order, which is little-endian wherever this runs (x86-64, arm64).
        try wrap {
            try file.write(contentsOf: frame.code.withUnsafeBytes { Data($0) })
            var record = small.withUnsafeBytes { Data($0) }
            withUnsafeBytes(of: &pts) { record.append(contentsOf: $0) }
            try spool.write(contentsOf: record)
        }
        count += 1
        if frame.faceFound { facesFound += 1 }
    }

    /// Appends every frame of `track`, a later segment of the same clip encoded with the same model.
    public func append(contentsOf track: LatentTrack) throws {
        precondition(track.source == source && track.model == model && track.codeSize == codeSize,
                     "segments of different clips or models cannot be joined")
        for i in 0..<track.count { try append(try track.frame(i)) }
    }

    /// Completes the file, moves it into place and opens it for reading.
    @discardableResult
    public func finish() throws -> LatentTrack {
        guard let file, let spool else { preconditionFailure("finish after finish or cancel") }
        do {
            try wrap {
                try spool.close()
                let columns = try FileHandle(forReadingFrom: spoolURL)
                defer { try? columns.close() }
                // The small columns after the codes, in the order `header` gives them offsets.
                for (_, floats) in Self.smallColumns {
                    let bytes = floats.isEmpty ? (Self.spoolFloats * 4)..<Self.spoolRecord : (floats.lowerBound * 4)..<(floats.upperBound * 4)
                    try columns.seek(toOffset: 0)
                    while let chunk = try columns.read(upToCount: 1024 * Self.spoolRecord), !chunk.isEmpty {
                        var out = Data(capacity: chunk.count / Self.spoolRecord * floats.count * 4)
                        chunk.withUnsafeBytes { raw in
                            for r in 0..<(raw.count / Self.spoolRecord) {
                                let at = r * Self.spoolRecord
                                out.append(contentsOf: raw[(at + bytes.lowerBound)..<(at + bytes.upperBound)])
                            }
                        }
                        try file.write(contentsOf: out)
                    }
                }
                var json = try Self.header(source: source, model: model, numWs: numWs, wDim: wDim, count: count, facesFound: facesFound)
                json.append(contentsOf: [UInt8](repeating: 0x20, count: headerSpace - json.count))
                var length = UInt64(headerSpace).littleEndian
                try file.seek(toOffset: 0)
                try file.write(contentsOf: withUnsafeBytes(of: &length) { Data($0) } + json)
                try file.close()
            }
            self.file = nil; self.spool = nil
            try? FileManager.default.removeItem(at: spoolURL)
            guard rename(temporary.path, url.path) == 0 else {
                throw TrackError.unwritable(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            cancel()
            throw error
        }
        return try LatentTrack(url: url)
    }

    /// Abandons the track: nothing is left at the destination or beside it.
    public func cancel() {
        try? file?.close(); try? spool?.close()
        file = nil; spool = nil
        try? FileManager.default.removeItem(at: temporary)
        try? FileManager.default.removeItem(at: spoolURL)
    }

    /// Columns other than the codes, in data order, with the range of spool floats each takes (empty: the pts).
    private static let smallColumns: [(String, Range<Int>)] = [
        ("cameras", 0..<25), ("quads", 25..<33), ("landmarks", 33..<169), ("face_found", 169..<170),
        ("times", 170..<171), ("pts", 0..<0),
    ]

    /// The safetensors header (JSON) of a track of `count` frames: codes first in the data section, then
    /// the small columns.
    static func header(source: TrackSource, model: String, numWs: Int, wDim: Int, count: Int, facesFound: Int) throws -> Data {
        let meta = LatentTrack.Header(format: LatentTrack.format, source: source, model: model, numWs: numWs, wDim: wDim,
                                      count: count, facesFound: facesFound)
        var header: [String: Any] = ["__metadata__": ["avatarize": String(decoding: try JSONEncoder().encode(meta), as: UTF8.self)]]
        let layout = Dictionary(uniqueKeysWithValues: LatentTrack.layout(numWs: numWs, wDim: wDim).map { ($0.name, $0) })
        var offset = 0
        for name in ["codes"] + smallColumns.map(\.0) {
            let (_, perFrame, dtype) = layout[name]!
            let bytes = count * perFrame.reduce(1, *) * dtype.size
            header[name] = ["dtype": dtype.rawValue, "shape": [count] + perFrame, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        return try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    }

    private func wrap(_ body: () throws -> Void) throws {
        do { try body() } catch let e as TrackError { throw e } catch {
            throw TrackError.unwritable(path: url.path, reason: "\(error.localizedDescription)")
        }
    }
}
