// Writes a bundle folder (model.json + weights.safetensors, and any further weight files) atomically: everything goes into a hidden
// temporary folder beside the destination, which is renamed into place only when complete. On any
// error the temporary folder is removed, so no half-written bundle is ever visible.
import Foundation
import Tensors

public enum BundleWriter {
    /// - extraFiles: further safetensors files of the bundle by file name (an encoder's refiner).
    public static func write(tensors: [String: Tensor], manifest: Data, to destination: URL,
                             metadata: [String: String] = [:], extraFiles: [String: [String: Tensor]] = [:]) throws {
        let fm = FileManager.default
        let parent = destination.deletingLastPathComponent()
        func fail(_ r: String) -> CheckpointError { .output(path: destination.path, reason: r) }
        if fm.fileExists(atPath: destination.path) { throw fail("it already exists (remove it or choose another --output)") }
        do { try fm.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw fail("cannot create \(parent.path): \(error.localizedDescription)")
        }
        let temp = parent.appendingPathComponent(".\(destination.lastPathComponent).partial-\(UUID().uuidString)")
        do {
            try fm.createDirectory(at: temp, withIntermediateDirectories: false)
            try SafeTensorsWriter.write(tensors, to: temp.appendingPathComponent("weights.safetensors"), metadata: metadata)
            for (name, t) in extraFiles.sorted(by: { $0.key < $1.key }) {
                try SafeTensorsWriter.write(t, to: temp.appendingPathComponent(name), metadata: metadata)
            }
            try manifest.write(to: temp.appendingPathComponent("model.json"))
            try fm.moveItem(at: temp, to: destination)
        } catch {
            try? fm.removeItem(at: temp)
            if let e = error as? CheckpointError { throw e }
            throw fail(error.localizedDescription)
        }
    }
}
