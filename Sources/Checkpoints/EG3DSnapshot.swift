// An EG3D network snapshot (training/training_loop.py: a dict {training_set_kwargs, G, D, G_ema,
// augment_pipe} pickled with torch_utils.persistence module objects): G_ema's state dict and the
// settings the pickle records — rendering_kwargs and the modules' own attributes (conv_clamp,
// input_resolution, bias_gain) — as GeneratorOptions. Only the FFHQ/AFHQ 512² layout with
// SuperresolutionHybrid8XDC is supported; other layouts are refused by name.
import Models
import Tensors

public struct EG3DSnapshot {
    public let stateDict: StateDict
    public let options: GeneratorOptions
    public let camera: CameraDefaults
    public let className: String
    public let superresolutionModule: String

    public static let supportedSuperresolution = "training.superresolution.SuperresolutionHybrid8XDC"

    public init(_ root: PickleValue, file: String) throws {
        func invalid(_ r: String) -> CheckpointError { .invalidModel(file: file, reason: r) }
        func unsupported(_ r: String) -> CheckpointError { .unsupportedModel(file: file, reason: r) }
        guard let top = root.dict else { throw invalid("the pickle holds a \(root.kindName), not an EG3D snapshot dict") }
        guard let g = top["G_ema"] else {
            let keys = top.stringEntries.map(\.0).prefix(8).joined(separator: ", ")
            throw invalid("no 'G_ema' in the pickle (keys: \(keys)); expected an EG3D network-snapshot pickle")
        }
        guard case let .object(gObj) = g else { throw invalid("'G_ema' is a \(g.kindName), not a network") }
        className = gObj.className
        guard className == "TriPlaneGenerator" else {
            throw unsupported("G_ema is a \(className), not EG3D's TriPlaneGenerator")
        }
        guard let state = g.dict else { throw invalid("G_ema has no state") }
        guard let rk = state["rendering_kwargs"]?.dict else { throw invalid("G_ema records no rendering_kwargs") }
        func number(_ d: PickleDict, _ key: String, _ what: String) throws -> Double {
            guard let v = d[key]?.asDouble else { throw invalid("\(what) '\(key)' is missing or not a number") }
            return v
        }
        // Sample counts become loop bounds, and Int(Double) traps on NaN, infinities and values past Int's range.
        func count(_ d: PickleDict, _ key: String, _ what: String) throws -> Int {
            let v = try number(d, key, what)
            guard v.rounded() == v, abs(v) <= 1_000_000 else { throw invalid("\(what) '\(key)' is \(v), not a sample count") }
            return Int(v)
        }
        superresolutionModule = rk["superresolution_module"]?.asString ?? "?"
        guard superresolutionModule == Self.supportedSuperresolution else {
            let short = superresolutionModule.split(separator: ".").last.map(String.init) ?? superresolutionModule
            throw unsupported("super-resolution '\(short)' (\(superresolutionModule)); only SuperresolutionHybrid8XDC (the 512² FFHQ/AFHQ layouts) is supported — SuperresolutionHybrid2X/4X (128²/256² datasets, ShapeNet cars) are not")
        }
        if let imgRes = state["img_resolution"]?.asInt, imgRes != 512 { throw unsupported("img_resolution \(imgRes) (8XDC renders 512²)") }
        if let mode = rk["clamp_mode"]?.asString, mode != "softplus" { throw unsupported("rendering clamp_mode '\(mode)' (softplus is supported)") }
        if rk["disparity_space_sampling"]?.asBool == true { throw unsupported("disparity_space_sampling (ShapeNet-style sampling)") }
        guard rk["ray_start"]?.asDouble != nil, rk["ray_end"]?.asDouble != nil else {
            throw unsupported("ray_start/ray_end are not numbers (\(rk["ray_start"]?.kindName ?? "missing")); 'auto' ray bounds are not supported")
        }

        var o = GeneratorOptions()
        guard let nrr = state["neural_rendering_resolution"]?.asInt, nrr > 0, nrr <= 1024 else {
            throw invalid("G_ema's neural_rendering_resolution is missing or out of range")
        }
        o.neuralRenderingResolution = nrr
        // TriPlaneGenerator.mapping: c * rendering_kwargs.get('c_scale', 0), or zeros with c_gen_conditioning_zero.
        o.cScale = rk["c_gen_conditioning_zero"]?.asBool == true ? 0 : Float(rk["c_scale"]?.asDouble ?? 0)
        o.decoderLrMultiplier = Float(rk["decoder_lr_mul"]?.asDouble ?? 1)
        o.superresolutionNoiseMode = rk["superresolution_noise_mode"]?.asString ?? "none"
        guard ["none", "const"].contains(o.superresolutionNoiseMode) else {
            throw unsupported("superresolution_noise_mode '\(o.superresolutionNoiseMode)' (random noise is not deterministic; 'none' or 'const')")
        }
        o.backboneNoiseMode = "const"
        o.rendering.rayStart = Float(try number(rk, "ray_start", "rendering_kwargs"))
        o.rendering.rayEnd = Float(try number(rk, "ray_end", "rendering_kwargs"))
        o.rendering.depthResolution = try count(rk, "depth_resolution", "rendering_kwargs")
        o.rendering.depthResolutionImportance = try count(rk, "depth_resolution_importance", "rendering_kwargs")
        o.rendering.boxWarp = Float(try number(rk, "box_warp", "rendering_kwargs"))
        o.rendering.whiteBack = rk["white_back"]?.asBool ?? false
        o.superresolutionAntialias = rk["sr_antialias"]?.asBool ?? true

        // Module attributes: what each layer was built with (the SR ignores its channel arguments).
        func module(_ path: [String]) throws -> PickleDict {
            var cur = state
            for p in path {
                guard let next = cur["_modules"]?.dict?[p], let d = next.dict else { throw invalid("G_ema has no module '\(path.joined(separator: "."))'") }
                cur = d
            }
            return cur
        }
        func clamp(_ path: [String]) throws -> Float? {
            let m = try module(path)
            guard let v = m["conv_clamp"] else { throw invalid("'\(path.joined(separator: "."))' records no conv_clamp") }
            if v.isNone { return nil }
            guard let d = v.asDouble else { throw invalid("'\(path.joined(separator: ".")).conv_clamp' is a \(v.kindName)") }
            return Float(d)
        }
        o.backboneConvClamp = try clamp(["backbone", "synthesis", "b4", "conv1"])
        o.superresolutionConvClamp = try clamp(["superresolution", "block0", "conv0"])
        let sr = try module(["superresolution"])
        if let r = sr["input_resolution"]?.asInt {
            guard r > 0, r <= 1024 else { throw invalid("superresolution.input_resolution \(r) is out of range") }
            o.superresolutionInputResolution = r
        }
        if let a = sr["sr_antialias"]?.asBool { o.superresolutionAntialias = a }
        // FullyConnectedLayer keeps bias_gain = lr_multiplier (networks_stylegan2.py).
        if let gain = try module(["backbone", "mapping", "fc0"])["bias_gain"]?.asDouble { o.mappingLrMultiplier = Float(gain) }
        if let gain = try module(["decoder", "net", "0"])["bias_gain"]?.asDouble { o.decoderLrMultiplier = Float(gain) }
        // ImportanceRenderer keeps generate_planes()' matrices as a plain attribute, so the pickle records the
        // tri-plane projection the model was trained with: EG3D's released one, or the fix of NVlabs/eg3d#67.
        if let recorded = try module(["renderer"])["plane_axes"] {
            guard case let .tensor(ref) = recorded else { throw invalid("renderer.plane_axes is a \(recorded.kindName), not a tensor") }
            let matrices = try ref.materialize(file: file, name: "renderer.plane_axes")
            guard matrices.shape == [3, 3, 3], let axes = TriplaneAxes(matrices: matrices.data) else {
                throw unsupported("renderer.plane_axes (shape \(matrices.shape)) is neither EG3D's released tri-plane projection (XY, XZ, ZX) nor the corrected one of NVlabs/eg3d#67 (XY, XZ, ZY)")
            }
            o.rendering.planeAxes = axes
        }
        options = o

        var cam = CameraDefaults()
        if let r = rk["avg_camera_radius"]?.asDouble { cam.radius = r }
        if let p = rk["avg_camera_pivot"]?.items, p.count == 3, let v = Optional(p.compactMap(\.asDouble)), v.count == 3 { cam.pivot = v }
        camera = cam

        stateDict = try StateDict.fromModule(g, file: file)
    }
}
