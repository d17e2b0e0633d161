import ArgumentParser
import Foundation
import Models
import Tensors

/// `avatarize encoder --model M --inputs IO.safetensors --output OUT.safetensors`: one e4e forward on a
/// given aligned image tensor, the encoder's counterpart of `generate --inputs` (the e4e fixture's names).
struct EncoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder",
        abstract: "Run an encoder bundle on an image tensor: image in; W+ codes (and, given a generator, the image) out.",
        discussion: """
        --inputs holds 'image' [1, 3, 256, 256] (an aligned crop in [-1, 1]). The output holds 'styles' and \
        'codes' (= 'ws') [1, styles, w] and 'c_after_unit6/20/23' (the IR-SE50 body after those units). With \
        --generator, --inputs also holds the camera 'c' [1, 25] and the output 'image', rendered at c: for a \
        TriPlaneNet bundle from the refined tri-planes (as TriPlaneNet.forward, depth samples doubled; v2 also \
        reads 'image_mirror' and 'c_mirror' when given, else mirrors the image and the camera), for other \
        encoders from the codes. For a GOAE bundle, --inputs holds 'image' [1, 3, 256, 256] and, for the AFA \
        module, 'input_512' [1, 3, 512, 512] (the same crop at 512²) and optionally 'mask_blur_sigmas' [2] (the \
        official blurs draw them at random; 1.5 and 1.5 otherwise); the output adds 'image' (AFA's render, as \
        Net.forward returns it), 'image_w' (the codes' render) and 'mask'. When the inputs file also holds reference outputs (as the parity fixtures do), \
        their relative errors are printed.
        """
    )

    @Option(help: "Encoder bundle folder or weights.safetensors.") var model: String
    @Option(help: "Input tensors ('image') as safetensors.") var inputs: String
    @Option(name: [.short, .long], help: "Output .safetensors.") var output: String
    @Option(help: "Generator bundle: also render the image at the inputs' camera 'c'.") var generator: String?
    @Option(help: "With --generator and a TriPlaneNet bundle, or a GOAE bundle with its AFA: run the inversion this many times, printing each one's time.")
    var repeats = 1

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be 1 or more") }
    }

    func run() throws {
        let manifest = URL(fileURLWithPath: model).appendingPathComponent("model.json")
        if FileManager.default.fileExists(atPath: manifest.path), try EncoderManifest.read(manifest).isGOAE {
            return try runGOAE()
        }
        let encoder = try Encoder4Editing(contentsOf: URL(fileURLWithPath: model))
        let file = try SafeTensorsFile(url: URL(fileURLWithPath: inputs))
        guard file.entries["image"] != nil else {
            throw ModelError.badInput(file: inputs, tensor: "image", reason: "missing")
        }
        let r = try encoder.encode(try file.tensor("image"), keepTaps: true)
        var out: [String: Tensor] = [
            "styles": r.styles.reshaped([1] + r.styles.shape),
            "codes": r.codes.reshaped([1] + r.codes.shape),
        ]
        for (i, unit) in EncoderArchitecture.tapUnits.enumerated() where i < r.taps.count {
            out["c_after_unit\(unit)"] = r.taps[i].reshaped([1] + r.taps[i].shape)
        }
        out["ws"] = out["codes"]
        if let generator {
            let g = try ModelBundle.open(URL(fileURLWithPath: generator)).loadGenerator()
            let c = try Self.camera(file, "c", inputs)
            if try TriPlaneRefiner.architecture(inBundle: URL(fileURLWithPath: model)) != nil {
                let inversion = try TriPlaneNetInversion(refiner: try TriPlaneRefiner(contentsOf: URL(fileURLWithPath: model)), generator: g)
                let mirror = try file.entries["image_mirror"].map { _ in try file.tensor("image_mirror") }
                let cm = try file.entries["c_mirror"].map { _ in try Self.camera(file, "c_mirror", inputs) }
                let image = try file.tensor("image")
                // Timed without reading the models, as a same-run comparison with the official forward needs.
                for run in 1...repeats {
                    let t = Clock.now()
                    let inverted = try inversion.invert(image: image, camera: c, encoder: encoder, mirrorImage: mirror, mirrorCamera: cm)
                    print(String(format: "inversion %d: %.1f ms", run, (Clock.now() - t) * 1000))
                    out["image"] = inverted.output.image.reshaped([1] + inverted.output.image.shape)
                }
            } else {
                let image = g.synthesize(ws: r.codes, camera: c).image
                out["image"] = image.reshaped([1] + image.shape)
            }
        }
        try write(out, comparingWith: file)
    }

    /// GOAE: the encoder's codes (+ the bundle's latent average); with --generator and an AFA module the whole Net.forward.
    func runGOAE() throws {
        let url = URL(fileURLWithPath: model)
        let encoder = try GOAEncoder(contentsOf: url)
        let file = try SafeTensorsFile(url: URL(fileURLWithPath: inputs))
        guard file.entries["image"] != nil else { throw ModelError.badInput(file: inputs, tensor: "image", reason: "missing") }
        let image = try file.tensor("image")
        var out: [String: Tensor] = [:]
        let encoded = try encoder.encode(image)
        var ws = encoded.codes
        if let latent = encoder.latentAverage { for i in 0..<ws.count { ws.data[i] += latent.data[i] } }
        out["codes"] = encoded.codes.reshaped([1] + ws.shape)
        out["ws"] = ws.reshaped([1] + ws.shape)
        if let generator {
            let g = try ModelBundle.open(URL(fileURLWithPath: generator)).loadGenerator()
            let c = try Self.camera(file, "c", inputs)
            if try AdaptiveFeatureAlignment.architecture(inBundle: url) != nil {
                guard file.entries["input_512"] != nil else {
                    throw ModelError.badInput(file: inputs, tensor: "input_512", reason: "missing (GOAE's AFA compares the 512² crop with the render)")
                }
                let x512 = try file.tensor("input_512")
                let sigmas = try file.entries["mask_blur_sigmas"].map { _ in try file.tensor("mask_blur_sigmas").data } ?? GOAERefinement.defaultBlurSigmas
                let inversion = try GOAEInversion(encoder: encoder, adapter: try AdaptiveFeatureAlignment(contentsOf: url), generator: g)
                for run in 1...repeats {
                    let t = Clock.now()
                    let r = try inversion.invert(image256: image, image512: x512, camera: c, blurSigmas: sigmas)
                    print(String(format: "inversion %d: %.1f ms", run, (Clock.now() - t) * 1000))
                    out["image"] = r.output.image.reshaped([1] + r.output.image.shape)
                    out["image_w"] = r.codeImage.reshaped([1] + r.codeImage.shape)
                    out["mask"] = r.mask
                }
            } else {
                let rendered = g.synthesize(ws: ws, camera: c).image
                out["image"] = rendered.reshaped([1] + rendered.shape)
            }
        }
        try write(out, comparingWith: file)
    }

    func write(_ out: [String: Tensor], comparingWith file: SafeTensorsFile) throws {
        try SafeTensorsWriter.write(out, to: URL(fileURLWithPath: output), metadata: ["generator": "avatarize encoder", "model": model])
        for name in out.keys.sorted() where file.entries[name] != nil {
            let ref = try file.tensor(name)
            guard ref.count == out[name]!.count else { continue }
            print(name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: " max|a-b|/max|b| = %.3g", out[name]!.relativeError(to: ref)))
        }
        print("wrote \(output)")
    }

    static func camera(_ file: SafeTensorsFile, _ name: String, _ path: String) throws -> [Float] {
        guard file.entries[name] != nil else {
            throw ModelError.badInput(file: path, tensor: name, reason: "missing (the camera, 25 numbers: cam2world ‖ intrinsics)")
        }
        let t = try file.tensor(name)
        guard t.count == 25 else { throw ModelError.badInput(file: path, tensor: name, reason: "has \(t.count) numbers, not 25") }
        return t.data
    }
}
