// Hyper-parameters of an EG3D generator that cannot be read off tensor shapes (model.json
// "architecture"), with the released ffhq512-128 values as defaults.

public struct RenderingOptions: Codable, Sendable, Equatable {
    public var rayStart: Float = 2.25
    public var rayEnd: Float = 3.3
    public var depthResolution: Int = 48
    public var depthResolutionImportance: Int = 48
    public var boxWarp: Float = 1
    public var whiteBack: Bool = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case rayStart = "ray_start", rayEnd = "ray_end", depthResolution = "depth_resolution"
        case depthResolutionImportance = "depth_resolution_importance", boxWarp = "box_warp", whiteBack = "white_back"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RenderingOptions()
        rayStart = try c.decodeIfPresent(Float.self, forKey: .rayStart) ?? d.rayStart
        rayEnd = try c.decodeIfPresent(Float.self, forKey: .rayEnd) ?? d.rayEnd
        depthResolution = try c.decodeIfPresent(Int.self, forKey: .depthResolution) ?? d.depthResolution
        depthResolutionImportance = try c.decodeIfPresent(Int.self, forKey: .depthResolutionImportance) ?? d.depthResolutionImportance
        boxWarp = try c.decodeIfPresent(Float.self, forKey: .boxWarp) ?? d.boxWarp
        whiteBack = try c.decodeIfPresent(Bool.self, forKey: .whiteBack) ?? d.whiteBack
    }
}

public struct GeneratorOptions: Codable, Sendable, Equatable {
    /// Learning-rate multiplier of the mapping network's FC layers (weights are stored unscaled).
    public var mappingLrMultiplier: Float = 0.01
    /// Multiplier on the camera fed to the mapping network (0 for unconditioned generators).
    public var cScale: Float = 1
    public var decoderLrMultiplier: Float = 1
    public var neuralRenderingResolution: Int = 128
    /// conv_clamp of backbone layers (nil: none) and of super-resolution layers (256 when the SR
    /// blocks were built with fp16 enabled, as in the released models).
    public var backboneConvClamp: Float? = nil
    public var superresolutionConvClamp: Float? = 256
    /// Whether the backbone adds its `noise_const` buffers ("const") or no noise ("none").
    public var backboneNoiseMode: String = "const"
    public var superresolutionNoiseMode: String = "none"
    public var rendering = RenderingOptions()
    /// Side of the super-resolution's input (SuperresolutionHybrid8XDC: 128, its `input_resolution`);
    /// nil reads it off the SR's noise buffers. Renders of another size are resized to it first.
    public var superresolutionInputResolution: Int? = nil
    /// `sr_antialias` of rendering_kwargs: the resize to the SR input is antialiased (it only differs from
    /// plain bilinear when shrinking).
    public var superresolutionAntialias: Bool = true

    public init() {}

    enum CodingKeys: String, CodingKey {
        case mappingLrMultiplier = "mapping_lr_multiplier", cScale = "c_scale"
        case decoderLrMultiplier = "decoder_lr_multiplier"
        case neuralRenderingResolution = "neural_rendering_resolution"
        case backboneConvClamp = "backbone_conv_clamp", superresolutionConvClamp = "superresolution_conv_clamp"
        case backboneNoiseMode = "backbone_noise_mode", superresolutionNoiseMode = "superresolution_noise_mode"
        case rendering
        case superresolutionInputResolution = "superresolution_input_resolution"
        case superresolutionAntialias = "superresolution_antialias"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GeneratorOptions()
        mappingLrMultiplier = try c.decodeIfPresent(Float.self, forKey: .mappingLrMultiplier) ?? d.mappingLrMultiplier
        cScale = try c.decodeIfPresent(Float.self, forKey: .cScale) ?? d.cScale
        decoderLrMultiplier = try c.decodeIfPresent(Float.self, forKey: .decoderLrMultiplier) ?? d.decoderLrMultiplier
        neuralRenderingResolution = try c.decodeIfPresent(Int.self, forKey: .neuralRenderingResolution) ?? d.neuralRenderingResolution
        backboneConvClamp = c.contains(.backboneConvClamp) ? try c.decodeIfPresent(Float.self, forKey: .backboneConvClamp) : d.backboneConvClamp
        superresolutionConvClamp = c.contains(.superresolutionConvClamp)
            ? try c.decodeIfPresent(Float.self, forKey: .superresolutionConvClamp) : d.superresolutionConvClamp
        backboneNoiseMode = try c.decodeIfPresent(String.self, forKey: .backboneNoiseMode) ?? d.backboneNoiseMode
        superresolutionNoiseMode = try c.decodeIfPresent(String.self, forKey: .superresolutionNoiseMode) ?? d.superresolutionNoiseMode
        rendering = try c.decodeIfPresent(RenderingOptions.self, forKey: .rendering) ?? d.rendering
        superresolutionInputResolution = try c.decodeIfPresent(Int.self, forKey: .superresolutionInputResolution)
        superresolutionAntialias = try c.decodeIfPresent(Bool.self, forKey: .superresolutionAntialias) ?? d.superresolutionAntialias
    }
}
