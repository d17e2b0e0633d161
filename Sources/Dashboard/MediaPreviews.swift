import Faces
import Foundation
import Reports
import Video

/// Pictures of jobs' videos: the first frame, and a strip of frames spread over the output. Decoded with the
/// Video module on demand, on the previews' own decode queue (never on Swift's cooperative pool), refused when
/// a frame would be over `maxPixels`, and kept (by job, picture and file modification time) so a refreshing
/// page does not decode again.
final class MediaPreviews: @unchecked Sendable {
    static let stripLength = 6
    static let size = 200
    /// 4096 × 4096: a decoded frame is at most 48 MiB of RGB, one at a time per decode thread.
    static let defaultMaxPixels = 4096 * 4096
    let maxPixels: Int
    let decoder: PreviewDecodeQueue
    private let lock = NSLock()
    private var cache: [String: Data] = [:]

    init(maxPixels: Int = MediaPreviews.defaultMaxPixels, decoder: PreviewDecodeQueue = PreviewDecodeQueue()) {
        self.maxPixels = maxPixels; self.decoder = decoder
    }

    func firstFrame(of url: URL, key: String) -> () async throws -> Data? {
        { [self] in
            try await cached(key, url) { [maxPixels] in
                let reader = try Self.open(url, maxPixels: maxPixels)
                guard let f = try reader.nextFrame() else { return nil }
                return try Picture.png(Picture.fit(RGBImage(width: f.width, height: f.height, pixels: f.rgb), within: Self.size))
            }
        }
    }

    func stripFrame(of url: URL, index: Int, key: String) -> () async throws -> Data? {
        { [self] in
            try await cached("\(key)/\(index)", url) { [maxPixels] in
                // Seek rather than decode from the start: an hour-long output costs what a short one does.
                let duration = try Self.open(url, maxPixels: maxPixels).duration ?? 0
                let reader = try VideoReader(url: url, options: .init(start: duration * Double(index) / Double(Self.stripLength)))
                guard let f = try reader.nextFrame() else { return nil }
                return try Picture.png(Picture.fit(RGBImage(width: f.width, height: f.height, pixels: f.rgb), within: Self.size))
            }
        }
    }

    /// Opens the file (headers only) and refuses it before any frame is decoded if its frames are too big.
    static func open(_ url: URL, maxPixels: Int) throws -> VideoReader {
        let reader = try VideoReader(url: url)
        guard reader.width.multipliedReportingOverflow(by: reader.height).partialValue <= maxPixels,
              reader.width <= maxPixels, reader.height <= maxPixels else {
            throw PreviewError.tooLarge(width: reader.width, height: reader.height, maxPixels: maxPixels)
        }
        return reader
    }

    private func cached(_ key: String, _ url: URL, make: @escaping @Sendable () throws -> Data?) async throws -> Data? {
        let modified = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date)?.timeIntervalSince1970
        guard let modified else { return nil }
        let full = "\(key)@\(modified)"
        if let hit = lock.withLock({ cache[full] }) { return hit }
        guard let png = try await decoder.decode(key: full, make) else { return nil }
        lock.withLock {
            if cache.count > 500 { cache.removeAll() }
            cache[full] = png
        }
        return png
    }
}
