import Checkpoints
import Foundation
import Tensors

public enum DirectionError: Error, CustomStringConvertible, Equatable {
    case folderMissing(String)
    case unknown(name: String, folder: String, known: [String])
    case badShape(file: String, count: Int, expected: String)
    case unreadable(file: String, reason: String)

    public var description: String {
        switch self {
        case .folderMissing(let f): return "\(f): no such directions folder"
        case let .unknown(n, f, known):
            return "no direction named '\(n)' in \(f); known: \(known.prefix(12).joined(separator: ", "))\(known.count > 12 ? ", …" : "")"
        case let .badShape(f, n, e):
            return "\(f): this model needs directions of \(e) floats, this one holds \(n) (it was made for another model's W space)"
        case let .unreadable(f, r): return "\(f): \(r)"
        }
    }
}

/// A vocabulary of latent directions: a folder of `.npy`, `.safetensors` or `.pt` files, the name of each being
/// its file name (InterFaceGAN's `Smiling.npy`, GANSpace's `pc003.npy`, PREIM3D's published `Smiling.pt`). A
/// direction holds wDim floats (applied to every layer) or numWs × wDim (one per layer, row by row: PREIM3D's
/// [1, 7168] is its (14, 512)).
public struct DirectionLibrary: Sendable {
    public let folder: URL
    public let files: [String: URL]

    public init(folder: URL) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue else {
            throw DirectionError.folderMissing(folder.path)
        }
        self.folder = folder
        var files: [String: URL] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let u = folder.appendingPathComponent(name)
            if ["npy", "safetensors", "pt"].contains(u.pathExtension) {
                files[u.deletingPathExtension().lastPathComponent] = u
            }
        }
        self.files = files
    }

    public var names: [String] { files.keys.sorted() }

    /// The direction as numWs × wDim floats.
    public func direction(_ name: String, numWs: Int, wDim: Int) throws -> [Float] {
        guard let url = files[name] ?? files.first(where: { $0.key.lowercased() == name.lowercased() })?.value else {
            throw DirectionError.unknown(name: name, folder: folder.path, known: names)
        }
        return try Self.load(url, numWs: numWs, wDim: wDim)
    }

    public static func load(_ url: URL, numWs: Int, wDim: Int) throws -> [Float] {
        let values: [Float]
        do {
            if url.pathExtension == "npy" {
                values = try NumpyArray.read(url).data
            } else if url.pathExtension == "pt" {
                values = try TorchTensorFile.read(url).data
            } else {
                let f = try SafeTensorsFile(url: url)
                guard let first = f.names.first else { throw DirectionError.unreadable(file: url.path, reason: "holds no tensor") }
                values = try f.tensor(f.names.contains("direction") ? "direction" : first).data
            }
        } catch let e as DirectionError {
            throw e
        } catch {
            throw DirectionError.unreadable(file: url.path, reason: "\(error)")
        }
        if values.count == numWs * wDim { return values }
        if values.count == wDim { return Array((0..<numWs).map { _ in values }.joined()) }
        throw DirectionError.badShape(file: url.path, count: values.count, expected: "\(wDim) or \(numWs)×\(wDim)")
    }
}

extension DirectionLibrary {
    /// Loads every direction `edits` name, so that an unknown name or a direction of the wrong size is refused
    /// before a clip is encoded, not after.
    public func check(_ edits: [NamedEdit], numWs: Int, wDim: Int) throws {
        for e in edits { _ = try direction(e.name, numWs: numWs, wDim: wDim) }
    }
}
