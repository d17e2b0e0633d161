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

    public init(refiner: TriPlaneRefiner, generator g: TriPlaneGenerator) throws {
        let a = g.architecture
        guard 3 * a.planeChannels == TriPlaneRefinerArchitecture.planeChannels, refiner.side == a.planeResolution else {
            throw EncoderLoadError.badManifest(file: refiner.file, reason: "the tri-plane encoder works on \(TriPlaneRefinerArchitecture.planeChannels) × \(refiner.side)² planes; the generator's are \(3 * a.planeChannels) × \(a.planeResolution)²")
        }
        self.refiner = refiner
        let r = g.options.rendering
        generator = g.withDepthSamples(coarse: r.depthResolution * Self.depthSampleFactor,
                                       importance: r.depthResolutionImportance * Self.depthSampleFactor)
    }

    /// The whole forward: encode, refine, render at the input's camera.
    /// - image: the aligned crop [3, 256, 256] in [−1, 1]; camera: its 25 numbers (cam2world ‖ intrinsics);
    ///   mirrorImage, mirrorCamera: v2's mirrored view (default: the image flipped left-right and flip_yaw(camera)).
    public func invert(image: Tensor, camera c: [Float], encoder: Encoder4Editing, mirrorImage: Tensor? = nil,
                       mirrorCamera: [Float]? = nil) throws -> Result {
        let a = generator.architecture
        guard encoder.architecture.styleCount == a.numWs, encoder.architecture.styleWidth == a.wDim else {
            throw EncoderLoadError.badManifest(file: encoder.file, reason: "the encoder makes \(encoder.architecture.styleCount)×\(encoder.architecture.styleWidth) codes; the generator takes \(a.numWs)×\(a.wDim)")
        }
        let codes = try encoder.encode(image).codes
        let styles = generator.styles(ws: codes)
        let refined = try refine(image: image, styles: styles, camera: c, mirrorImage: mirrorImage, mirrorCamera: mirrorCamera)
        return Result(codes: codes, planes: refined.planes,
                      output: generator.synthesize(styles: styles, camera: c, planes: refined.planes))
    }

    /// The refined planes for codes already encoded (their styles), and what refinement adds to the backbone's
    /// planes: `offsets` = refined − backbone. Added to the planes of edited codes, they carry the person's detail
    /// into an edit (v1 adds its offsets that way itself; for v2 it is the difference of its refined planes).
    public func refine(image: Tensor, styles: StyleSpace, camera c: [Float], mirrorImage: Tensor? = nil,
                       mirrorCamera: [Float]? = nil) throws -> (planes: Tensor, offsets: Tensor) {
        let shape = [3, Self.imageSide, Self.imageSide]
        for given in [image, mirrorImage].compactMap({ $0 }) where given.count != 3 * Self.imageSide * Self.imageSide {
            throw EncoderInputError.badImageShape(found: given.shape, expected: shape)
        }
        let x = image.reshaped(shape)
        let initial = generator.synthesize(styles: styles, camera: c)
        let yHat = Self.averagePool(initial.image, to: Self.imageSide)
        var input = TriPlaneRefiner.concatenate(yHat, Self.difference(x, yHat))
        if refiner.architecture.version == .v2 {
            let xm = mirrorImage?.reshaped(shape) ?? Self.mirrored(x)
            // The same codes, so the same backbone planes: only the render and the super-resolution run again.
            let mirror = generator.synthesize(styles: styles, camera: mirrorCamera ?? Self.flipYaw(c), planes: initial.planes)
            let ym = Self.averagePool(mirror.image, to: Self.imageSide)
            input = TriPlaneRefiner.concatenate(input, Self.difference(xm, ym))
        }
        switch refiner.architecture.version {
        case .v1:
            let offsets = try refiner(input)
            var planes = initial.planes
            for i in 0..<planes.count { planes.data[i] += offsets.data[i] }
            return (planes, offsets)
        case .v2:
            let planes = try refiner(input, planes: initial.planes)
            return (planes, Self.difference(planes, initial.planes))
        }
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
