// Port of TriPlaneGenerator from NVlabs/eg3d training/triplane.py (inference path): mapping → S space →
// StyleGAN2 backbone (tri-planes) → rays → importance renderer with the OSG decoder → 8XDC
// super-resolution (after resizing the render to the SR's input side). Batch size 1; every width and
// resolution comes from the weights.
import Tensors

/// Everything one forward pass produces, with per-stage timings in seconds.
public struct GeneratorOutput: Sendable {
    public var planes: Tensor        // [3·C, R, R] backbone output
    public var rayOrigins: Tensor    // [M, 3]
    public var rayDirections: Tensor // [M, 3]
    public var featureImage: Tensor  // [out, r, r]
    public var imageRaw: Tensor      // [3, r, r]
    public var imageDepth: Tensor    // [1, r, r]
    public var image: Tensor         // [3, 4r, 4r], in about [−1, 1]
    public var timings: [(stage: String, seconds: Double)]
}

public final class TriPlaneGenerator: @unchecked Sendable {
    public let architecture: GeneratorArchitecture
    public let options: GeneratorOptions
    public let mapping: MappingNetwork
    let synthesis: SynthesisNetwork
    let renderer: ImportanceRenderer
    let superresolution: SuperResolution
    /// Precision of the backbone's and super-resolution's convolutions (mapping, decoder and volume
    /// rendering are float32 either way).
    public let precision: Precision

    /// Checks `weights` against the architecture read off their shapes, then builds the networks.
    public init(weights: Weights, options: GeneratorOptions = GeneratorOptions(), precision: Precision = .fp32) throws {
        let arch = try GeneratorArchitecture.infer(shapes: weights.shapes,
                                                   renderingResolution: options.neuralRenderingResolution,
                                                   superresolutionInput: options.superresolutionInputResolution,
                                                   file: weights.file)
        try weights.validate(against: arch)
        architecture = arch
        self.options = options
        self.precision = precision
        mapping = MappingNetwork(weights, arch: arch, lrMultiplier: options.mappingLrMultiplier)
        synthesis = SynthesisNetwork(weights, arch: arch, options: options, precision: precision)
        renderer = ImportanceRenderer(decoder: OSGDecoder(weights, lrMultiplier: options.decoderLrMultiplier, precision: precision),
                                      options: options.rendering, precision: precision)
        superresolution = SuperResolution(weights, arch: arch, options: options, precision: precision)
    }

    private init(architecture: GeneratorArchitecture, options: GeneratorOptions, mapping: MappingNetwork, synthesis: SynthesisNetwork,
                 renderer: ImportanceRenderer, superresolution: SuperResolution, precision: Precision) {
        self.architecture = architecture
        self.options = options
        self.mapping = mapping
        self.synthesis = synthesis
        self.renderer = renderer
        self.superresolution = superresolution
        self.precision = precision
    }

    /// The same networks rendering with other depth sample counts along each ray (TriPlaneNet's inference doubles
    /// both: scripts/inference*.py).
    public func withDepthSamples(coarse: Int, importance: Int) -> TriPlaneGenerator {
        var o = options
        o.rendering.depthResolution = coarse
        o.rendering.depthResolutionImportance = importance
        return TriPlaneGenerator(architecture: architecture, options: o, mapping: mapping, synthesis: synthesis,
                                 renderer: ImportanceRenderer(decoder: renderer.decoder, options: o.rendering, precision: precision),
                                 superresolution: superresolution, precision: precision)
    }

    /// z [z_dim] and the mapping camera (25) → ws [num_ws, w_dim]. The camera is scaled by c_scale.
    public func map(z: [Float], camera c: [Float], psi: Float = 0.7, cutoff: Int? = 14) -> Tensor {
        mapping(z: z, c: c.map { $0 * options.cScale }, psi: psi, cutoff: cutoff)
    }

    /// ws → every affine's style vector (the S space).
    public func styles(ws: Tensor) -> StyleSpace {
        precondition(ws.shape == [architecture.numWs, architecture.wDim], "ws must be [\(architecture.numWs), \(architecture.wDim)]")
        return StyleSpace(names: synthesis.styleNames + superresolution.styleNames,
                          values: synthesis.styles(ws: ws) + superresolution.styles(ws: ws))
    }

    /// Renders from styles (possibly edited) with the rendering camera (25 numbers). `editPlanes`, when
    /// given, changes the tri-planes [3·C, R, R] between the backbone and the renderer (the method's
    /// geometric deformation warps the front plane there).
    public func synthesize(styles: StyleSpace, camera c: [Float], editPlanes: ((inout Tensor) -> Void)? = nil) -> GeneratorOutput {
        var timings: [(String, Double)] = []
        var t = Clock.now()
        let nb = synthesis.styleNames.count
        var planes = synthesis.forward(styles: styles.values[0..<nb])
        editPlanes?(&planes)
        timings.append(("backbone", Clock.now() - t))
        var out = synthesize(styles: styles, camera: c, planes: planes)
        out.timings.insert(contentsOf: timings, at: 0)
        return out
    }

    /// Renders given tri-planes [3·C, R, R] (an inversion's refined planes) instead of the backbone's; the styles
    /// still drive the super-resolution.
    public func synthesize(styles: StyleSpace, camera c: [Float], planes: Tensor) -> GeneratorOutput {
        precondition(planes.count == 3 * architecture.planeChannels * architecture.planeResolution * architecture.planeResolution,
                     "planes must be [3 × \(architecture.planeChannels), \(architecture.planeResolution), \(architecture.planeResolution)]")
        let nb = synthesis.styleNames.count
        var timings: [(String, Double)] = []
        var t = Clock.now()
        let res = options.neuralRenderingResolution
        let (origins, dirs) = RaySampler.rays(camera: c, resolution: res)
        let (feat, depth) = renderer.render(planes: planes, origins: origins, directions: dirs, imageWidth: res)
        let out = renderer.decoder.outFeatures
        let m = res * res
        var featureImage = Tensor(zeros: [out, res, res])
        for p in 0..<m { for ch in 0..<out { featureImage.data[ch * m + p] = feat[p * out + ch] } }
        let rgb = Tensor(shape: [3, res, res], data: Array(featureImage.data[0..<(3 * m)]))
        timings.append(("rendering", Clock.now() - t))

        t = Clock.now()
        let image = superresolution.forward(rgb: rgb, features: featureImage, styles: styles.values[nb...])
        timings.append(("superresolution", Clock.now() - t))
        return GeneratorOutput(planes: planes, rayOrigins: Tensor(shape: [m, 3], data: origins),
                               rayDirections: Tensor(shape: [m, 3], data: dirs), featureImage: featureImage,
                               imageRaw: rgb, imageDepth: Tensor(shape: [1, res, res], data: depth), image: image,
                               timings: timings)
    }

    /// The backbone's blocks up to and including `resolution` (GOAE: 32): their features x and tri-plane image so far.
    public func backboneFeatures(styles: StyleSpace, through resolution: Int) -> (features: Tensor, planes: Tensor) {
        let nb = synthesis.styleNames.count
        let end = synthesis.blocks.firstIndex { $0.spec.resolution > resolution } ?? synthesis.blocks.count
        let r = synthesis.forward(styles: styles.values[0..<nb], blocks: 0..<end, x: nil, img: nil)
        return (r.x, r.img)
    }

    /// The rest of the backbone from `backboneFeatures`' output (its features possibly modulated) → planes [3·C, R, R].
    public func backbonePlanes(styles: StyleSpace, from resolution: Int, features: Tensor, planes: Tensor) -> Tensor {
        let nb = synthesis.styleNames.count
        let start = synthesis.blocks.firstIndex { $0.spec.resolution > resolution } ?? synthesis.blocks.count
        return synthesis.forward(styles: styles.values[0..<nb], blocks: start..<synthesis.blocks.count, x: features, img: planes).img
    }

    /// ws [num_ws, w_dim] → images, through the S space unedited.
    public func synthesize(ws: Tensor, camera c: [Float]) -> GeneratorOutput {
        let t = Clock.now()
        let s = styles(ws: ws)
        let dt = Clock.now() - t
        var out = synthesize(styles: s, camera: c)
        out.timings.insert(("styles", dt), at: 0)
        return out
    }
}

extension TriPlaneGenerator {
    /// OpProfile names of the renderer's lookups and decoder, timed on every worker (thread time, not wall).
    public static var renderLookupOp: String { ImportanceRenderer.lookupOp }
    public static var renderDecoderOp: String { ImportanceRenderer.decoderOp }

    /// Bytes the tri-plane lookups read for one frame (all its rays' samples): what `bench generator --ops`
    /// sets against the machine's copy rate.
    public var renderLookupBytes: Double {
        renderer.lookupBytes(rays: options.neuralRenderingResolution * options.neuralRenderingResolution)
    }
}
