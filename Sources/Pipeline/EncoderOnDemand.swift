import Foundation
import Models
import Tensors

/// The encoder of one encoding job: built when a pass first needs it, kept for the job's other passes (a
/// worker encoding several segments of a clip), and let go by `release` once the clip is encoded, its pages
/// handed back to the kernel, so that the generators read after it never sit beside it (AvatarModels).
public final class EncoderOnDemand {
    let models: AvatarModels
    private var built: FaceEncoder?
    /// Time spent building the encoder (reading and converting its weights), 0 until a pass needed it.
    public private(set) var buildSeconds = 0.0

    public init(_ models: AvatarModels) { self.models = models }

    public func network() throws -> FaceEncoder {
        if let built { return built }
        let t0 = Date()
        let made = try models.makeEncoder()
        buildSeconds = Date().timeIntervalSince(t0)
        built = made
        return made
    }

    /// Drops the encoder, if one was built, and returns the freed heap to the kernel: the process keeps freed
    /// blocks for reuse (Allocator.keepFreedMemory), which would hold the encoder's 0.5 GB or so through the render.
    public func release() {
        guard built != nil else { return }
        built = nil
        Allocator.returnFreedMemory()
    }
}
