import Foundation
import Tensors

/// A file holding one tensor, as `torch.save(tensor, path)` writes it: PREIM3D's published InterFaceGAN
/// directions (`editings/interfacegan_directions/inversion/*.pt` of mybabyyh/Preim3D, each a float32 [1, 7168]
/// that its inference reshapes to (14, 512)). Read with the importer's restricted unpickler, so a hostile file
/// gets the same refusals as a checkpoint. A mapping that holds exactly one tensor is read as that tensor.
public enum TorchTensorFile {
    public static func read(_ url: URL) throws -> Tensor {
        let bytes = try TorchCheckpoint.bytes(of: url)
        return try TorchCheckpoint.read(bytes[...], file: url.path) { top, _ in
            switch top {
            case .tensor(let ref):
                return try ref.materialize(file: url.path, name: url.deletingPathExtension().lastPathComponent)
            default:
                let entries = top.dict?.stringEntries ?? []
                if entries.count == 1, case .tensor(let ref) = entries[0].1 {
                    return try ref.materialize(file: url.path, name: entries[0].0)
                }
                throw CheckpointError.invalidModel(
                    file: url.path, reason: "holds a \(top.kindName), not a tensor (expected what torch.save(tensor, path) writes)")
            }
        }
    }
}
