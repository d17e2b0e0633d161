import CFFmpeg
import Foundation

/// SHA-256 of a file's bytes through libavutil's hash API, read in 1 MiB blocks: what a latent track
/// records so that it is never rendered against a different clip than the one it was encoded from.
public func contentHash(of url: URL) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: url.path) else { throw MediaError.fileNotFound(path: url.path) }
    defer { try? handle.close() }
    var ctx: OpaquePointer? = nil
    guard av_hash_alloc(&ctx, "SHA256") >= 0, let ctx else {
        throw MediaError.invalidArgument("this FFmpeg build has no SHA-256 in libavutil")
    }
    defer { var c: OpaquePointer? = ctx; av_hash_freep(&c) }
    av_hash_init(ctx)
    while true {
        let block = handle.readData(ofLength: 1 << 20)
        if block.isEmpty { break }
        block.withUnsafeBytes { av_hash_update(ctx, $0.bindMemory(to: UInt8.self).baseAddress, block.count) }
    }
    var digest = [UInt8](repeating: 0, count: Int(av_hash_get_size(ctx)))
    av_hash_final(ctx, &digest)
    return digest.map { String(format: "%02x", $0) }.joined()
}
