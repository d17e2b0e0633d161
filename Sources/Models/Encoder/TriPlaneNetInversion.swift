// TriPlaneNet's inversion of one aligned image (anantarb/triplanenet models/triplanenet.py and triplanenet_v2.py,
// TriPlaneNet.forward, as scripts/inference*.py run it):
//   codes = GradualStyleEncoder(x) + latent_avg
//   ŷ     = adaptive_avg_pool(G(codes, c), 256), with the backbone's planes P
//   v1:   planes = P + refiner(ŷ ‖ x − ŷ)
//   v2:   ŷm = the same at the mirrored camera (flip_yaw(c)); planes = refiner(ŷ ‖ x − ŷ ‖ xm − ŷm, P), where xm is
//         the input mirrored left-right (datasets/dataset_v2.py: ImageOps.mirror and flip_yaw)
//   image = G rendering `planes` at c, with the codes' styles driving the super-resolution.
// Every render uses twice the generator's depth samples, as the inference scripts set them.
import Tensors

public struct TriPlaneNetInversion: Sendable {
    /// scripts/inference*.py multiply depth_resolution and depth_resolution_importance by 2.
    public static let depthSampleFactor = 2
    /// TriPlaneNet resizes the generator's images to the encoders' input (F.adaptive_avg_pool2d(y_hat, (256, 256))).
    public static let imageSide = EncoderArchitecture.inputSize

    public let encoder: Encoder4Editing
    public let refiner: TriPlaneRefiner
    /// The generator, rendering with the doubled depth samples.
    public let generator: TriPlaneGenerator

    public struct Result: Sendable {
        /// W+ codes [styles, w] (encoder output + latent_avg).
        public var codes: Tensor
        /// The refined tri-planes [3·C, R, R] the image is rendered from.
        public var planes: Tensor
        /// The render at the input's camera from the refined planes.
        public var output: GeneratorOutput
    }

    public init(encoder: Encoder4Editing, refiner: TriPlaneRefiner, generator g: TriPlaneGenerator) throws {
        let a = g.architecture
        guard encoder.architecture.styleCount == a.numWs, encoder.architecture.styleWidth == a.wDim else {
            throw EncoderLoadError.badManifest(file: encoder.file, reason: "the encoder makes \(encoder.architecture.styleCount)×\(encoder.architecture.styleWidth) codes; the generator takes \(a.numWs)×\(a.wDim)")
        }
        guard 3 * a.planeChannels == TriPlaneRefinerArchitecture.planeChannels, refiner.side == a.planeResolution else {
            throw EncoderLoadError.badManifest(file: refiner.file, reason: "the tri-plane encoder works on \(TriPlaneRefinerArchitecture.planeChannels) × \(refiner.side)² planes; the generator's are \(3 * a.planeChannels) × \(a.planeResolution)²")
        }
        self.encoder = encoder
        self.refiner = refiner
        let r = g.options.rendering
        generator = g.withDepthSamples(coarse: r.depthResolution * Self.depthSampleFactor,
                                       importance: r.depthResolutionImportance * Self.depthSampleFactor)
    }

    /// - image: the aligned crop [3, 256, 256] in [−1, 1]; camera: its 25 numbers (cam2world ‖ intrinsics);
    ///   mirrorImage, mirrorCamera: v2's mirrored view (default: the image flipped left-right and flip_yaw(camera)).
    public func invert(image: Tensor, camera c: [Float], mirrorImage: Tensor? = nil, mirrorCamera: [Float]? = nil) throws -> Result {
        let x = image.reshaped(encoder.inputShape)
        let codes = try encoder.encode(x).codes
        let styles = generator.styles(ws: codes)
        let initial = generator.synthesize(styles: styles, camera: c)
        let yHat = Self.averagePool(initial.image, to: Self.imageSide)
        var input = TriPlaneRefiner.concatenate(yHat, Self.difference(x, yHat))
        if refiner.architecture.version == .v2 {
            let xm = mirrorImage?.reshaped(encoder.inputShape) ?? Self.mirrored(x)
            let ym = Self.averagePool(generator.synthesize(styles: styles, camera: mirrorCamera ?? Self.flipYaw(c)).image, to: Self.imageSide)
            input = TriPlaneRefiner.concatenate(input, Self.difference(xm, ym))
        }
        var planes: Tensor
        switch refiner.architecture.version {
        case .v1:
            planes = initial.planes
            let offsets = try refiner(input)
            for i in 0..<planes.count { planes.data[i] += offsets.data[i] }
        case .v2:
            planes = try refiner(input, planes: initial.planes)
        }
        return Result(codes: codes, planes: planes, output: generator.synthesize(styles: styles, camera: c, planes: planes))
    }

    /// datasets/dataset_v2.py flip_yaw: the cam2world matrix mirrored about the face's vertical plane.
    public static func flipYaw(_ c: [Float]) -> [Float] {
        var m = c
        for (i, j) in [(0, 1), (0, 2), (1, 0), (2, 0), (0, 3)] { m[i * 4 + j] = -m[i * 4 + j] }
        return m
    }

    /// The image mirrored left-right.
    public static func mirrored(_ x: Tensor) -> Tensor {
        var out = x
        let w = x.shape[x.shape.count - 1], rows = x.count / w
        for r in 0..<rows {
            for j in 0..<w { out.data[r * w + j] = x.data[r * w + w - 1 - j] }
        }
        return out
    }

    static func difference(_ a: Tensor, _ b: Tensor) -> Tensor {
        var d = a
        for i in 0..<d.count { d.data[i] -= b.data[i] }
        return d
    }

    /// F.adaptive_avg_pool2d to side × side: output cell i averages input rows ⌊i·H/side⌋ ..< ⌈(i+1)·H/side⌉ (same for columns).
    public static func averagePool(_ x: Tensor, to side: Int) -> Tensor {
        let c = x.shape[0], h = x.shape[1], w = x.shape[2]
        if h == side && w == side { return x }
        var out = Tensor(zeros: [c, side, side])
        for ch in 0..<c {
            for i in 0..<side {
                let y0 = i * h / side, y1 = ((i + 1) * h + side - 1) / side
                for j in 0..<side {
                    let x0 = j * w / side, x1 = ((j + 1) * w + side - 1) / side
                    var s: Float = 0
                    for y in y0..<y1 { for xx in x0..<x1 { s += x.data[(ch * h + y) * w + xx] } }
                    out.data[(ch * side + i) * side + j] = s / Float((y1 - y0) * (x1 - x0))
                }
            }
        }
        return out
    }
}
