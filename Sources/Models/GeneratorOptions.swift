import Tensors
// Hyper-parameters of an EG3D generator that cannot be read off tensor shapes (model.json
// "architecture"), with the released ffhq512-128 values as defaults.

public struct RenderingOptions: Codable, Sendable, Equatable {
    public var rayStart: Float = 2.25
    public var rayEnd: Float = 3.3
    public var depthResolution: Int = 48
    public var depthResolutionImportance: Int = 48
    public var boxWarp: Float = 1
    public var whiteBack: Bool = false
    /// The tri-plane projection the model was trained with (see `TriplaneAxes`); original when not recorded.
    public var planeAxes: TriplaneAxes = .original

    public init() {}

    enum CodingKeys: String, CodingKey {
        case rayStart = "ray_start", rayEnd = "ray_end", depthResolution = "depth_resolution"
        case depthResolutionImportance = "depth_resolution_importance", boxWarp = "box_warp", whiteBack = "white_back"
        case planeAxes = "plane_axes"
    }

    /// Ranges: the ray runs forward from the camera (0 < ray_start < ray_end), the coarse pass needs at
    /// least 4 samples (its importance weights drop the two end bins and smooth over a third), the fine
    /// pass always runs, and the tri-plane box has a size.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RenderingOptions()
        rayStart = Float(try c.number(.rayStart, in: 0.001...100, or: Double(d.rayStart)))
        rayEnd = Float(try c.number(.rayEnd, in: 0.001...100, or: Double(d.rayEnd)))
        guard rayEnd > rayStart else {
            throw ManifestValueError(key: c.path(.rayEnd), problem: "is \(Double(rayEnd).manifestText); it must be greater than ray_start (\(Double(rayStart).manifestText))")
        }
        depthResolution = try c.count(.depthResolution, in: 4...1024, or: d.depthResolution)!
        depthResolutionImportance = try c.count(.depthResolutionImportance, in: 1...1024, or: d.depthResolutionImportance)!
        boxWarp = Float(try c.number(.boxWarp, in: 0.001...100, or: Double(d.boxWarp)))
        whiteBack = try c.decodeIfPresent(Bool.self, forKey: .whiteBack) ?? d.whiteBack
        if let name = try c.decodeIfPresent(String.self, forKey: .planeAxes) {
            guard let axes = TriplaneAxes(rawValue: name) else {
                throw ManifestValueError(key: c.path(.planeAxes), problem: "is '\(name)'; it must be 'original' (EG3D as released) or 'corrected' (NVlabs/eg3d#67)")
            }
            planeAxes = axes
        }
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

    /// Ranges: learning-rate multipliers are positive, conv_clamp bounds fp16 activations (StyleGAN2-ADA
    /// uses 256), noise is "const" or "none" (random noise would not be deterministic), and the render is
    /// at most 1024² (as the importer allows).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GeneratorOptions()
        mappingLrMultiplier = Float(try c.number(.mappingLrMultiplier, in: 1e-6...100, or: Double(d.mappingLrMultiplier)))
        cScale = Float(try c.number(.cScale, in: 0...100, or: Double(d.cScale)))
        decoderLrMultiplier = Float(try c.number(.decoderLrMultiplier, in: 1e-6...100, or: Double(d.decoderLrMultiplier)))
        neuralRenderingResolution = try c.count(.neuralRenderingResolution, in: 1...1024, or: d.neuralRenderingResolution)!
        // An explicit null means no clamp; an absent key means the released models' value.
        func clamp(_ key: CodingKeys, _ fallback: Float?) throws -> Float? {
            guard c.contains(key) else { return fallback }
            return try c.decodeNil(forKey: key) ? nil : Float(try c.number(key, in: 1...65504, or: 0))
        }
        backboneConvClamp = try clamp(.backboneConvClamp, d.backboneConvClamp)
        superresolutionConvClamp = try clamp(.superresolutionConvClamp, d.superresolutionConvClamp)
        backboneNoiseMode = try c.choice(.backboneNoiseMode, of: ["const", "none"], or: d.backboneNoiseMode)
        superresolutionNoiseMode = try c.choice(.superresolutionNoiseMode, of: ["const", "none"], or: d.superresolutionNoiseMode)
        rendering = try c.decodeIfPresent(RenderingOptions.self, forKey: .rendering) ?? d.rendering
        superresolutionInputResolution = try c.count(.superresolutionInputResolution, in: 1...1024, or: nil)
        superresolutionAntialias = try c.decodeIfPresent(Bool.self, forKey: .superresolutionAntialias) ?? d.superresolutionAntialias
    }
}
