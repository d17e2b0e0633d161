// e4e / pSp / PREIM3D encoder checkpoints: a training checkpoint {state_dict, opts, latent_avg} (the
// coaches' save format, encoder under `encoder.`, generator under `decoder.`), or a bare encoder state
// dict. PREIM3D's layout (children registered encoder, face_pool, decoder, where the decoder is a whole
// EG3D TriPlaneGenerator, and a [1, styles, w] latent_avg its loader ignores) is told apart by
// `opts.eg3d_generator` or `decoder.backbone.*` keys. TriPlaneNet's (anantarb/triplanenet training/coach*.py:
// {state_dict, opts, best_val_loss, step, optimizers}) holds pSp's GradualStyleEncoder under `psp_encoder.`, the
// tri-plane encoder under `triplanenet_encoder.` and the generator under `decoder.`, and no latent_avg (its loader
// takes it from the EG3D file it was trained with). GOAE (jiangyzy/GOAE) releases two bare state dicts: the Swin-V2
// encoder (encoder_FFHQ.pt, `swin_model.*`) and its AFA module (afa_FFHQ.pt, `cross_att_gamma.*`).
import Models
import Tensors

public struct EncoderCheckpoint {
    public enum Layout: String, Sendable {
        case e4e = "e4e/pSp training checkpoint", preim3d = "PREIM3D checkpoint", bare = "bare encoder state dict"
        case triplanenet = "TriPlaneNet checkpoint"
        /// GOAE's encoder_FFHQ.pt: a bare state dict of GOAEncoder (Swin-V2 under `swin_model.`, mappers, cross-attentions).
        case goae = "GOAE encoder state dict"
        /// GOAE's afa_FFHQ.pt: a bare state dict of its AFA module, imported together with the encoder.
        case goaeAdapter = "GOAE AFA state dict"
    }

    public let layout: Layout
    /// Encoder tensors under the checkpoint's own names (prefix `encoder.` kept when present).
    public let stateDict: StateDict
    /// The saved latent_avg, if any (any of [styles, w], [1, styles, w], [w]).
    public let latentAverage: TorchTensorRef?
    /// opts.encoder_type, when the checkpoint records it.
    public let encoderType: String?
    /// TriPlaneNet's tri-plane encoder, under the checkpoint's names (`triplanenet_encoder.` kept); nil otherwise.
    public let refinerStateDict: StateDict?
    /// The prefix of the refiner's tensors in `refinerStateDict`.
    public static let refinerPrefix = "triplanenet_encoder."

    public init(_ root: PickleValue, file: String) throws {
        guard let top = root.dict else {
            throw CheckpointError.invalidModel(file: file, reason: "the checkpoint holds a \(root.kindName), not a dict")
        }
        let opts = top["opts"]?.dict
        encoderType = opts?["encoder_type"]?.asString
        if let t = encoderType, EncoderHead(rawValue: t) == nil {
            throw CheckpointError.unsupportedModel(
                file: file, reason: "encoder_type '\(t)'; \(EncoderHead.allCases.map(\.rawValue).joined(separator: ", ")) are supported")
        }
        if let sd = top["state_dict"] {
            guard let d = sd.dict else { throw CheckpointError.invalidModel(file: file, reason: "'state_dict' is a \(sd.kindName), not a dict") }
            let names = d.stringEntries.map(\.0)
            if names.contains(where: { $0.hasPrefix("psp_encoder.") }) {
                layout = .triplanenet
                stateDict = try StateDict.fromMapping(d, file: file) { $0.hasPrefix("psp_encoder.") && !$0.hasSuffix(".num_batches_tracked") }
                refinerStateDict = try StateDict.fromMapping(d, file: file) {
                    $0.hasPrefix(Self.refinerPrefix) && !$0.hasSuffix(".num_batches_tracked")
                }
                guard refinerStateDict?.names.isEmpty == false else {
                    throw CheckpointError.invalidModel(file: file, reason: "a TriPlaneNet checkpoint ('psp_encoder.' entries) without its tri-plane encoder ('\(Self.refinerPrefix)' entries)")
                }
                latentAverage = nil
                return
            }
            refinerStateDict = nil
            guard names.contains(where: { $0.hasPrefix("encoder.") }) else {
                throw CheckpointError.invalidModel(file: file, reason: "'state_dict' has no 'encoder.' or 'psp_encoder.' entries (not an e4e / pSp / PREIM3D / TriPlaneNet checkpoint)")
            }
            let preim3d = opts?["eg3d_generator"] != nil || names.contains { $0.hasPrefix("decoder.backbone.") }
            layout = preim3d ? .preim3d : .e4e
            // BatchNorm's num_batches_tracked counters only matter for training.
            stateDict = try StateDict.fromMapping(d, file: file) { $0.hasPrefix("encoder.") && !$0.hasSuffix(".num_batches_tracked") }
            if let la = top["latent_avg"], case let .tensor(t) = la { latentAverage = t } else { latentAverage = nil }
        } else {
            // A bare state dict: every entry a tensor, with or without the `encoder.` prefix.
            refinerStateDict = nil
            let names = top.stringEntries.map(\.0)
            if names.contains(where: { $0.hasPrefix(GOAEncoderArchitecture.swinPrefix) }) {
                layout = .goae
                stateDict = try StateDict.fromMapping(top, file: file) { _ in true }
                latentAverage = nil
                return
            }
            if names.contains(where: { $0.hasPrefix("cross_att_gamma.") }) {
                layout = .goaeAdapter
                stateDict = try StateDict.fromMapping(top, file: file) { !$0.hasSuffix(".num_batches_tracked") }
                latentAverage = nil
                return
            }
            layout = .bare
            stateDict = try StateDict.fromMapping(top, file: file) {
                !$0.hasPrefix("decoder.") && $0 != "latent_avg" && !$0.hasSuffix(".num_batches_tracked")
            }
            if let la = top["latent_avg"], case let .tensor(t) = la { latentAverage = t } else { latentAverage = nil }
        }
    }
}
