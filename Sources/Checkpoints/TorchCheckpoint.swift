// Opens any file the importer reads and hands its top-level object to a converter: torch zip archives
// (torch.save since 1.6), legacy torch.save files, and plain pickles (EG3D network snapshots, whose
// storages are embedded legacy blobs).
import Foundation

public enum TorchCheckpoint {
    public enum Format: String, Sendable { case zip = "torch zip archive", legacy = "legacy torch.save file", pickle = "pickle" }

    public static func format(of bytes: ArraySlice<UInt8>) -> Format? {
        if ZipArchive.looksLikeZip(bytes) { return .zip }
        if LegacyTorchFile.looksLikeLegacy(bytes) { return .legacy }
        if let f = bytes.first, f == 0x80 { return .pickle }
        return nil
    }

    /// Reads `url` whole (checkpoints are read once; tensors are slices of these bytes).
    public static func bytes(of url: URL) throws -> [UInt8] {
        do { return [UInt8](try Data(contentsOf: url, options: .mappedIfSafe)) } catch {
            throw CheckpointError.unknownFormat(file: url.path, reason: "unreadable (\(error.localizedDescription))")
        }
    }

    /// Parses `bytes` (named `file` in errors) and converts the top-level object with `body`.
    public static func read<T>(_ bytes: ArraySlice<UInt8>, file: String, _ body: (PickleValue, Format) throws -> T) throws -> T {
        guard let format = format(of: bytes) else {
            throw CheckpointError.unknownFormat(file: file, reason: "neither a torch zip archive, a legacy torch.save file nor a pickle")
        }
        switch format {
        case .pickle:
            return try Unpickler.read(bytes, file: file) { try body($0, .pickle) }.value
        case .legacy:
            return try LegacyTorchFile.read(bytes, file: file) { try body($0, .legacy) }
        case .zip:
            let zip = try ZipArchive(bytes: bytes, file: file)
            guard let pkl = zip.names.first(where: { $0 == "data.pkl" || ($0.hasSuffix("/data.pkl") && $0.split(separator: "/").count == 2) }) else {
                throw CheckpointError.malformedArchive(file: file, reason: "the zip archive has no data.pkl record (not a torch.save file)")
            }
            let prefix = String(pkl.dropLast("data.pkl".count))
            var storages: [String: TorchStorage] = [:]
            // The budget is the whole file's: data.pkl may reasonably be small beside its storages.
            return try Unpickler.read(zip.data(pkl)!, file: file, persistentLoad: { pid in
                guard let t = pid.items, t.count >= 5, let key = t[2].asString else {
                    throw CheckpointError.malformedArchive(file: file, reason: "persistent id: expected ('storage', type, key, location, numel)")
                }
                let v = try LegacyTorchFile.persistentStorage(pid, file: file, into: &storages)
                if case let .storage(s) = v, s.bytes == nil {
                    let record = prefix + "data/" + key
                    guard let data = zip.data(record) else {
                        throw CheckpointError.malformedArchive(file: file, reason: "record '\(record)' of storage '\(key)' is missing")
                    }
                    guard data.count >= s.count * s.dtype.size else {
                        throw CheckpointError.malformedArchive(file: file, reason: "record '\(record)' holds \(data.count) bytes, storage '\(key)' needs \(s.count * s.dtype.size)")
                    }
                    s.bytes = data
                }
                return v
            }, budget: ReadBudget(inputSize: bytes.count, file: file)) { try body($0, .zip) }.value
        }
    }
}
