import Crypto
import Foundation
import NIOPosix

/// `POST /api/uploads?name=clip.mp4`: a clip streamed into `INPUT_ROOT/uploads/` (never held in memory: each piece of
/// the body is hashed and written as it arrives), refused past the size limit, and named by its SHA-256 so the same
/// clip sent twice is one file. The writes run on NIO's blocking-I/O thread pool, never on Swift's cooperative
/// threads (two on this kind of machine), so a slow disk under one upload does not stall every other request.
struct UploadStore: Sendable {
    let folder: URL
    let maxBytes: Int64

    struct Stored: Equatable {
        /// `SHA256.EXT`, in `folder`.
        var name: String
        var sha256: String
        var bytes: Int64
    }

    func receive<Body: AsyncSequence>(_ body: Body, name: String?) async throws -> Stored where Body.Element == ArraySlice<UInt8> {
        // Only the extension of the name is kept (the decoders go by content, but people read names).
        let ext = name.map { ($0 as NSString).pathExtension.lowercased() } ?? ""
        guard ext.count <= 8, ext.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { throw UploadError.badExtension }
        let pool = NIOThreadPool.singleton
        let folder = self.folder
        let incoming = folder.appendingPathComponent(".incoming-\(UUID().uuidString)")
        let file: FileHandle = try await pool.runIfActive {
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: incoming.path, contents: nil),
                  let file = try? FileHandle(forWritingTo: incoming) else { throw UploadError.cannotWrite(folder.path) }
            return file
        }
        var hash = SHA256()
        var bytes: Int64 = 0
        do {
            for try await piece in body {
                bytes += Int64(piece.count)
                guard bytes <= maxBytes else { throw UploadError.tooLarge(maxBytes) }
                hash.update(data: piece)
                let data = Data(piece)
                try await pool.runIfActive { try file.write(contentsOf: data) }
            }
            try await pool.runIfActive { try file.close() }
            guard bytes > 0 else { throw UploadError.empty }
        } catch {
            try? file.close()
            try? FileManager.default.removeItem(at: incoming)
            throw error
        }
        let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
        let stored = Stored(name: ext.isEmpty ? digest : "\(digest).\(ext)", sha256: digest, bytes: bytes)
        let final = folder.appendingPathComponent(stored.name)
        try await pool.runIfActive {
            if FileManager.default.fileExists(atPath: final.path) {
                try FileManager.default.removeItem(at: incoming)   // the same bytes are already there
            } else {
                try FileManager.default.moveItem(at: incoming, to: final)
            }
        }
        return stored
    }
}

enum UploadError: Error, CustomStringConvertible {
    case badExtension
    case empty
    case tooLarge(Int64)
    case cannotWrite(String)

    var description: String {
        switch self {
        case .badExtension: return "the name's extension must be letters and digits"
        case .empty: return "the upload is empty: send the clip's bytes as the body"
        case .tooLarge(let limit): return "the upload is over \(limit) bytes"
        case .cannotWrite(let folder): return "cannot write to \(folder)"
        }
    }
}
