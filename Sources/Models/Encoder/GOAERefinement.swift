// GOAE's refinement of an inverted face (jiangyzy/GOAE goae/training/goae.py Net.forward after the encoder, and
// mix_fusion):
//   (f, P₃₂) = the backbone through 32² for the codes; P_w = the rest of it from (f, P₃₂); ŷ_w = render(P_w, c)
//   f' = AFA(x₅₁₂, ŷ_w, f); P_f = the rest of the backbone from (f', P₃₂); ŷ = render(P_f, c)
//   mask: the surface points of ŷ (ray origin + depth · direction) marked on the 256² xy plane at
//         ((x + ½)·256, (y + ½)·256), blurred (GaussianBlur 9), thresholded at 0.35, blurred again
//   planes = P_f with its xy plane mixed as mask · P_f + (1 − mask) · P_w          (the "mix tri-plane")
// Novel views render `planes` with the codes driving the super-resolution (infer.py's multi-view).
// The official blurs draw sigma uniformly from [1, 2] on every call; here they are fixed (the middle of that
// range, 1.5) so a video does not flicker, and given ones are honoured for parity.
import Foundation
import Tensors

public struct GOAERefinement: Sendable {
    /// The backbone resolution whose features AFA modulates (goae.py: train_forward_1 stops after res 32).
    public static let featureResolution = 32
    /// transforms.GaussianBlur(9, sigma=(1, 2)) in Net.__init__.
    public static let blurKernel = 9
    /// A fixed sigma for both blurs: the middle of the official random range [1, 2].
    public static let defaultBlurSigmas: [Float] = [1.5, 1.5]
    /// mix_fusion's threshold between the blurs.
    public static let maskThreshold: Float = 0.35

    public let adapter: AdaptiveFeatureAlignment
    public let generator: TriPlaneGenerator

    public struct Output: Sendable {
        /// The mixed tri-planes [3·C, R, R] novel views render from.
        public var planes: Tensor
        /// The W-only planes (the codes' own backbone output).
        public var codePlanes: Tensor
        /// The occlusion mask [R, R] on the xy plane.
        public var mask: Tensor
        /// The render at the input's camera from AFA's planes (Net.forward's rec_img_dict['image']).
        public var output: GeneratorOutput
        /// The render of the codes alone (rec_img_dict_w['image']).
        public var codeImage: Tensor
    }

    public init(adapter: AdaptiveFeatureAlignment, generator g: TriPlaneGenerator) throws {
        let a = g.architecture
        guard let block = a.backbone.first(where: { $0.resolution == Self.featureResolution }),
              block.outChannels == adapter.architecture.featureWidth else {
            throw EncoderLoadError.badManifest(file: adapter.file, reason: "AFA modulates \(adapter.architecture.featureWidth) channels at \(Self.featureResolution)²; the generator's backbone has \(a.backbone.first { $0.resolution == Self.featureResolution }?.outChannels ?? 0) there")
        }
        guard a.imageResolution == adapter.side else {
            throw EncoderLoadError.badManifest(file: adapter.file, reason: "AFA compares \(adapter.side)² images; the generator renders \(a.imageResolution)²")
        }
        self.adapter = adapter
        generator = g
    }

    /// AFA's refinement for codes already encoded (their styles): everything of GOAEInversion.invert after the encoder.
    public func refine(image512: Tensor, styles: StyleSpace, camera c: [Float], blurSigmas: [Float] = defaultBlurSigmas) throws -> Output {
        guard blurSigmas.count == 2, blurSigmas.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw ModelError.badInput(file: "", tensor: "mask_blur_sigmas", reason: "two positive sigmas are needed, given \(blurSigmas)")
        }
        let g = generator, a = g.architecture
        let (features, partial) = g.backboneFeatures(styles: styles, through: Self.featureResolution)
        let codePlanes = g.backbonePlanes(styles: styles, from: Self.featureResolution, features: features, planes: partial)
        let codeRender = g.synthesize(styles: styles, camera: c, planes: codePlanes)
        let aligned = try adapter(image: image512, render: codeRender.image, features: features).out
        let planes = g.backbonePlanes(styles: styles, from: Self.featureResolution, features: aligned, planes: partial)
        let out = g.synthesize(styles: styles, camera: c, planes: planes)
        let mask = Self.occlusionMask(depth: out.imageDepth, origins: out.rayOrigins, directions: out.rayDirections,
                                      resolution: a.planeResolution, sigmas: blurSigmas)
        let mixed = Self.mix(planes, codePlanes, mask: mask, planeChannels: a.planeChannels)
        return Output(planes: mixed, codePlanes: codePlanes, mask: mask, output: out, codeImage: codeRender.image)
    }

    /// The xy plane (the first `planeChannels` channels) as mask · refined + (1 − mask) · codes'; the others refined.
    public static func mix(_ refined: Tensor, _ code: Tensor, mask: Tensor, planeChannels C: Int) -> Tensor {
        var mixed = refined
        let n = mask.count
        for ch in 0..<C {
            for p in 0..<n {
                let i = ch * n + p, m = mask.data[p]
                mixed.data[i] = m * refined.data[i] + (1 - m) * code.data[i]
            }
        }
        return mixed
    }

    /// mix_fusion's mask: every ray's surface point (origin + depth · direction) marks its cell of the R² xy plane,
    /// then blur → threshold → blur.
    public static func occlusionMask(depth: Tensor, origins: Tensor, directions: Tensor, resolution R: Int, sigmas: [Float]) -> Tensor {
        var mask = [Float](repeating: 0, count: R * R)
        for p in 0..<depth.count {
            let d = depth.data[p]
            var cell = [0, 0]
            for axis in 0..<2 {
                let v = origins.data[3 * p + axis] + d * directions.data[3 * p + axis]
                // (v + 0.5) · 256, clamped to [0, 255], then .long() (truncation).
                let scaled = min(max((v + 0.5) * Float(R), 0), Float(R - 1))
                cell[axis] = Int(scaled)
            }
            mask[cell[1] * R + cell[0]] = 1
        }
        mask = gaussianBlur(mask, side: R, sigma: sigmas[0])
        for i in mask.indices { mask[i] = mask[i] > maskThreshold ? 1 : 0 }
        mask = gaussianBlur(mask, side: R, sigma: sigmas[1])
        return Tensor(shape: [R, R], data: mask)
    }

    /// torchvision's gaussian_blur with a 9-tap kernel: exp(−x²/(2σ²)) over x = −4…4, normalised, as a 9×9 outer
    /// product, reflect padding.
    static func gaussianBlur(_ x: [Float], side R: Int, sigma: Float) -> [Float] {
        let k = blurKernel, half = k / 2
        var k1 = (0..<k).map { i -> Float in let t = Float(i - half) / sigma; return expf(-0.5 * t * t) }
        let sum = k1.reduce(0, +)
        k1 = k1.map { $0 / sum }
        func reflect(_ i: Int) -> Int { i < 0 ? -i : (i >= R ? 2 * (R - 1) - i : i) }
        var out = [Float](repeating: 0, count: R * R)
        for y in 0..<R {
            for xx in 0..<R {
                var acc: Float = 0
                for dy in 0..<k {
                    let row = reflect(y + dy - half) * R
                    for dx in 0..<k { acc += k1[dy] * k1[dx] * x[row + reflect(xx + dx - half)] }
                }
                out[y * R + xx] = acc
            }
        }
        return out
    }
}
