import Crypto
import Foundation
import Hummingbird
import Jobs

/// `POST /api/uploads?name=clip.mp4`: a clip streamed into `INPUT_ROOT/uploads/` (never held in memory: each piece of
/// the body is hashed and written as it arrives), refused past `maxUploadBytes`, and named by its SHA-256 so the same
/// clip sent twice is one file. The answer's `path` is relative to the input root, ready for a job's `inputs`.
extension DashboardApp {
    struct Uploaded: Codable, Equatable {
        var path: String
        var sha256: String
        var bytes: Int64
    }

    func upload(_ request: DashboardRequest, body: RequestBody) async throws -> DashboardResponse {
        guard !options.readOnly else { return .json(try APIJSON.encode(["error": "this dashboard is read-only"]), status: 403) }
        guard let inputRoot = options.inputRoot else {
            return .json(try APIJSON.encode(["error": "this dashboard takes no uploads: it was started without --input-root"]), status: 403)
        }
        // Only the extension of the name is kept (the decoders go by content, but people read names).
        let ext = (request.query["name"].map { ($0 as NSString).pathExtension.lowercased() } ?? "")
        guard ext.count <= 8, ext.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            return .json(try APIJSON.encode(["error": "the name's extension must be letters and digits"]), status: 400)
        }
        let folder = URL(fileURLWithPath: inputRoot).appendingPathComponent("uploads")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let incoming = folder.appendingPathComponent(".incoming-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: incoming.path, contents: nil), let file = try? FileHandle(forWritingTo: incoming) else {
            return .json(try APIJSON.encode(["error": "cannot write to \(folder.path)"]), status: 500)
        }
        var hash = SHA256()
        var bytes: Int64 = 0
        do {
            defer { try? file.close() }
            for try await piece in body {
                bytes += Int64(piece.readableBytes)
                guard bytes <= options.maxUploadBytes else {
                    try? FileManager.default.removeItem(at: incoming)
                    return .json(try APIJSON.encode(["error": "the upload is over \(options.maxUploadBytes) bytes"]), status: 413)
                }
                piece.withUnsafeReadableBytes { hash.update(bufferPointer: $0) }
                try file.write(contentsOf: Data(buffer: piece))
            }
        } catch {
            try? FileManager.default.removeItem(at: incoming)
            throw error
        }
        let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
        let name = ext.isEmpty ? digest : "\(digest).\(ext)"
        let final = folder.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: final.path) {
            try FileManager.default.removeItem(at: incoming)   // the same bytes are already there
        } else {
            try FileManager.default.moveItem(at: incoming, to: final)
        }
        return .json(try APIJSON.encode(Uploaded(path: "uploads/\(name)", sha256: digest, bytes: bytes)), status: 201)
    }
}
