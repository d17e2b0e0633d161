// GOAE's inversion of one aligned image (jiangyzy/GOAE goae/training/goae.py Net.forward, as infer.py runs it):
// codes = GOAEncoder(x₂₅₆) + w_avg, then GOAERefinement (AFA and the occlusion-mixed tri-plane) on x₅₁₂.
import Foundation
import Tensors

public struct GOAEInversion: Sendable {
    public let encoder: GOAEncoder
    public let refinement: GOAERefinement
    public var generator: TriPlaneGenerator { refinement.generator }

    public struct Result: Sendable {
        /// W+ codes [styles, w] (encoder output + w_avg).
        public var codes: Tensor
        /// Everything the refinement made from them.
        public var refined: GOAERefinement.Output
        public var planes: Tensor { refined.planes }
        public var codePlanes: Tensor { refined.codePlanes }
        public var mask: Tensor { refined.mask }
        public var output: GeneratorOutput { refined.output }
        public var codeImage: Tensor { refined.codeImage }
    }

    public init(encoder: GOAEncoder, adapter: AdaptiveFeatureAlignment, generator g: TriPlaneGenerator) throws {
        let a = g.architecture
        guard encoder.architecture.styleCount == a.numWs, encoder.architecture.wDim == a.wDim else {
            throw EncoderLoadError.badManifest(file: encoder.file, reason: "the encoder makes \(encoder.architecture.styleCount)×\(encoder.architecture.wDim) codes; the generator takes \(a.numWs)×\(a.wDim)")
        }
        self.encoder = encoder
        refinement = try GOAERefinement(adapter: adapter, generator: g)
    }

    /// The whole forward. image256 [3, 256, 256] and image512 [3, 512, 512] are the aligned crop in [−1, 1] at the
    /// encoder's and AFA's sides; camera: its 25 numbers.
    public func invert(image256: Tensor, image512: Tensor, camera c: [Float], blurSigmas: [Float] = GOAERefinement.defaultBlurSigmas) throws -> Result {
        let g = generator, a = g.architecture
        let encoded = try encoder.encode(image256)
        var codes = encoded.codes
        // The bundle's latent average (the generator's w_avg repeated), else the generator's own.
        let latent = encoder.latentAverage?.data ?? (0..<a.numWs).flatMap { _ in g.mapping.wAvg }
        for i in 0..<codes.count { codes.data[i] += latent[i] }
        return Result(codes: codes, refined: try refinement.refine(image512: image512, styles: g.styles(ws: codes), camera: c,
                                                                    blurSigmas: blurSigmas))
    }
}
