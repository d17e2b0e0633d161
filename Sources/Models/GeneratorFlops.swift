// Arithmetic cost of one forward pass, per stage, counting the multiply-adds the GEMMs perform
// (a ×2-upsampling conv is a transposed conv at its input resolution) plus the decoder MLP.

extension GeneratorArchitecture {
    /// Floating-point operations (2 per multiply-add) of the mapping, backbone, rendering MLP and SR.
    public func flops(options: GeneratorOptions) -> [String: Double] {
        let k2 = Double(kernelSize * kernelSize)
        func block(_ b: BlockSpec) -> Double {
            let r = Double(b.resolution), rin = r / 2
            var f = 0.0
            if b.inChannels != 0 { f += 2 * Double(b.outChannels * b.inChannels) * k2 * rin * rin }
            f += 2 * Double(b.outChannels * b.outChannels) * k2 * r * r
            f += 2 * Double(b.imgChannels * b.outChannels) * r * r
            return f
        }
        let mapping = 2.0 * Double(wDim * cDim + (zDim + wDim) * wDim + (mappingLayers - 1) * wDim * wDim)
        let rays = Double(options.neuralRenderingResolution * options.neuralRenderingResolution)
        let samples = Double(options.rendering.depthResolution + options.rendering.depthResolutionImportance)
        let mlp = 2.0 * Double(planeChannels * decoderHidden + decoderHidden * (decoderOutput + 1))
        return [
            "mapping": mapping,
            "backbone": backbone.reduce(0) { $0 + block($1) },
            "rendering": rays * samples * mlp,
            "superresolution": superresolution.reduce(0) { $0 + block($1) },
        ]
    }
}
