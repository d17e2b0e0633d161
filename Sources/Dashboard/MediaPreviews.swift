import Faces
import Foundation
import Reports
import Video

/// Pictures of jobs' videos: the first frame, and a strip of frames spread over the output. Decoded with the
/// Video module on demand, off the event loop, and kept (by job, picture and file modification time) so a
/// refreshing page does not decode again.
final class MediaPreviews: @unchecked Sendable {
    static let stripLength = 6
    static let size = 200
    private let lock = NSLock()
    private var cache: [String: Data] = [:]

    func firstFrame(of url: URL, key: String) -> () async throws -> Data? {
        { [self] in
            try cached(key, url) {
                guard let f = try VideoReader(url: url).nextFrame() else { return nil }
                return try Picture.png(Picture.fit(RGBImage(width: f.width, height: f.height, pixels: f.rgb), within: Self.size))
            }
        }
    }

    func stripFrame(of url: URL, index: Int, key: String) -> () async throws -> Data? {
        { [self] in
            try cached("\(key)/\(index)", url) {
                // Seek rather than decode from the start: an hour-long output costs what a short one does.
                let duration = try VideoReader(url: url).duration ?? 0
                let reader = try VideoReader(url: url, options: .init(start: duration * Double(index) / Double(Self.stripLength)))
                guard let f = try reader.nextFrame() else { return nil }
                return try Picture.png(Picture.fit(RGBImage(width: f.width, height: f.height, pixels: f.rgb), within: Self.size))
            }
        }
    }

    private func cached(_ key: String, _ url: URL, make: () throws -> Data?) throws -> Data? {
        let modified = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date)?.timeIntervalSince1970
        guard let modified else { return nil }
        let full = "\(key)@\(modified)"
        if let hit = lock.withLock({ cache[full] }) { return hit }
        guard let png = try make() else { return nil }
        lock.withLock {
            if cache.count > 500 { cache.removeAll() }
            cache[full] = png
        }
        return png
    }
}
