import ArgumentParser
import Foundation
import Models
import Tensors
import Video

/// `avatarize generate`: run an EG3D generator bundle. Three modes:
/// - `--inputs IO.safetensors --output OUT.safetensors`: the parity-fixture contract (z, c_mapping, c_render,
///   optional ws in; ws, feature_image, image_raw, image_depth, image out);
/// - `--seed N -o face.png [--depth depth.png]`: one picture;
/// - `--seed N --orbit FRAMES -o orbit.mp4`: a turntable video.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Render an EG3D generator: tensors in/out, a picture, or a turntable video.",
        discussion: """
        --model is a bundle folder (model.json + weights.safetensors) or a bare weights.safetensors whose \
        architecture is read from its tensor shapes. Rendering is deterministic (mid-bin coarse depths, \
        det=true importance samples). Latent codes from --seed come from avatarize's own generator \
        (SplitMix64 + Box-Muller), not NumPy's, so seeds do not reproduce the official scripts' pictures.
        """
    )

    @Option(help: "Bundle folder or weights.safetensors.") var model: String
    @Option(help: "Input tensors (z, c_mapping, c_render, optional ws) as safetensors.") var inputs: String?
    @Option(name: [.short, .long], help: "Output: .safetensors with --inputs, .png with --seed, .mp4 with --orbit.")
    var output: String
    @Option(help: "Truncation psi.") var psi: Float?
    @Option(help: "Truncation cutoff (number of ws truncated).") var cutoff: Int?
    @Option(help: "Seed for z (picture and orbit modes).") var seed: UInt64?
    @Option(help: "Camera yaw in radians from frontal.") var yaw: Double = 0
    @Option(help: "Camera pitch in radians from frontal.") var pitch: Double = 0
    @Option(help: "Also write the depth image (near = white) as PNG.") var depth: String?
    @Option(help: "Render a turntable of this many frames to an .mp4.") var orbit: Int?
    @Option(help: "Frame rate of the orbit video.") var fps: Int = 25
    @Option(help: "fp32, bf16 (bfloat16 products, float32 sums; needs AVX512_BF16) or auto. Default: fp32 with --inputs (the parity contract), else auto.")
    var precision: PrecisionChoice?
    @Option(help: "Worker threads (default: all cores).") var threads: Int?

    func validate() throws {
        if inputs == nil && seed == nil { throw ValidationError("give --inputs IO.safetensors or --seed N") }
        if inputs != nil && (seed != nil || orbit != nil) { throw ValidationError("--inputs cannot be combined with --seed or --orbit") }
        if let orbit, orbit < 1 { throw ValidationError("--orbit needs at least one frame") }
    }

    func run() throws {
        Parallel.configure(threads: threads)
        let bundle = try ModelBundle.open(URL(fileURLWithPath: model))
        let t0 = Clock.now()
        let g = try bundle.loadGenerator(precision: try (precision ?? (inputs == nil ? .auto : .fp32)).resolve())
        FileHandle.standardError.write(Data(String(format: "loaded %@ in %.2f s (precision %@)\n", bundle.url.path,
                                                   Clock.now() - t0, g.precision.rawValue).utf8))
        let psi = self.psi ?? bundle.manifest.truncationPsi
        let cutoff = self.cutoff ?? bundle.manifest.truncationCutoff
        if let inputs {
            try runTensors(g, inputs: URL(fileURLWithPath: inputs), psi: psi, cutoff: cutoff)
            return
        }
        var rng = SplitMix64(seed: seed!)
        let z = (0..<g.architecture.zDim).map { _ in rng.gaussian() }
        let cams = bundle.manifest.camera
        let ws = g.map(z: z, camera: cams.frontal.vector, psi: psi, cutoff: cutoff)
        let styles = g.styles(ws: ws)
        let out = URL(fileURLWithPath: output)
        if let orbit {
            let first = g.synthesize(styles: styles, camera: cams.camera(yaw: yaw, pitch: pitch).vector)
            let size = first.image.shape[1]
            var options = VideoWriter.Options()
            options.frameRate = Rational(Int32(fps), 1)
            options.timeBase = Rational(1, Int32(fps))
            let writer = try VideoWriter(url: out, width: size, height: size, options: options)
            for i in 0..<orbit {
                // gen_videos.py's path: yaw 0.35·sin, pitch 0.25·cos around frontal (pitch offset −0.05).
                let a = 2 * Double.pi * Double(i) / Double(orbit)
                let cam = cams.camera(yaw: yaw + 0.35 * sin(a), pitch: pitch - 0.05 + 0.25 * cos(a))
                let r = g.synthesize(styles: styles, camera: cam.vector)
                try writer.write(VideoFrame(width: size, height: size, rgb: Self.rgb8(r.image), pts: Int64(i),
                                            timeBase: Rational(1, Int32(fps)), index: i))
                FileHandle.standardError.write(Data("\rframe \(i + 1)/\(orbit)".utf8))
            }
            try writer.finish()
            FileHandle.standardError.write(Data("\n".utf8))
            print("wrote \(out.path) (\(orbit) frames, \(size)x\(size))")
            return
        }
        let r = g.synthesize(styles: styles, camera: cams.camera(yaw: yaw, pitch: pitch).vector)
        let size = r.image.shape[1]
        try ImageFile.writePNG(rgb: Self.rgb8(r.image), width: size, height: size, to: out)
        print("wrote \(out.path) (\(size)x\(size))")
        if let depth {
            let d = r.imageDepth
            let res = d.shape[1]
            let lo = d.data.min() ?? 0, hi = d.data.max() ?? 1
            let span = max(hi - lo, 1e-6)
            let gray = d.data.flatMap { v -> [UInt8] in
                let g = UInt8(max(0, min(255, (hi - v) / span * 255)))
                return [g, g, g]
            }
            try ImageFile.writePNG(rgb: gray, width: res, height: res, to: URL(fileURLWithPath: depth))
            print("wrote \(depth) (\(res)x\(res) depth, near = white)")
        }
    }

    /// [3, H, W] in [−1, 1] → packed RGB bytes, as the official scripts convert (x·127.5 + 128, clamped).
    static func rgb8(_ image: Tensor) -> [UInt8] {
        let h = image.shape[1], w = image.shape[2], n = h * w
        var out = [UInt8](repeating: 0, count: 3 * n)
        for p in 0..<n {
            for c in 0..<3 { out[3 * p + c] = UInt8(max(0, min(255, image.data[c * n + p] * 127.5 + 128))) }
        }
        return out
    }

    func runTensors(_ g: TriPlaneGenerator, inputs url: URL, psi: Float, cutoff: Int) throws {
        let file = try SafeTensorsFile(url: url)
        let arch = g.architecture
        func read(_ name: String, count: Int) throws -> Tensor {
            let t = try file.tensor(name)
            guard t.count == count else {
                throw ModelError.badInput(file: url.path, tensor: name, reason: "has shape \(t.shape), expected \(count) values")
            }
            return t
        }
        let cRender = try read("c_render", count: 25)
        let ws: Tensor
        if file.entries["ws"] != nil {
            ws = try read("ws", count: arch.numWs * arch.wDim).reshaped([arch.numWs, arch.wDim])
        } else {
            ws = g.map(z: try read("z", count: arch.zDim).data, camera: try read("c_mapping", count: arch.cDim).data,
                       psi: psi, cutoff: cutoff)
        }
        let r = g.synthesize(ws: ws, camera: cRender.data)
        var outputs: [String: Tensor] = [
            "ws": ws.reshaped([1] + ws.shape),
            "feature_image": r.featureImage.reshaped([1] + r.featureImage.shape),
            "image_raw": r.imageRaw.reshaped([1] + r.imageRaw.shape),
            "image_depth": r.imageDepth.reshaped([1] + r.imageDepth.shape),
            "image": r.image.reshaped([1] + r.image.shape),
        ]
        outputs["ws"] = ws.reshaped([1] + ws.shape)
        try SafeTensorsWriter.write(outputs, to: URL(fileURLWithPath: output),
                                    metadata: ["generator": "avatarize", "model": model])
        for (stage, s) in r.timings { print(stage.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: " %8.1f ms", s * 1000)) }
        // When the inputs file also holds reference outputs (as the parity fixtures do), report the figures.
        for name in ["ws", "feature_image", "image_raw", "image_depth", "image"] where file.entries[name] != nil {
            let ref = try file.tensor(name)
            guard ref.count == outputs[name]!.count else { continue }
            print(name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: " max|a-b|/max|b| = %.3g", outputs[name]!.relativeError(to: ref)))
        }
        print("wrote \(output)")
    }
}
