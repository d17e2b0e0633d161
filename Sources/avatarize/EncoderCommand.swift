import ArgumentParser
import Foundation
import Models
import Tensors

/// `avatarize encoder --model M --inputs IO.safetensors --output OUT.safetensors`: one e4e forward on a
/// given aligned image tensor, the encoder's counterpart of `generate --inputs` (the e4e fixture's names).
struct EncoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder",
        abstract: "Run an e4e encoder bundle on an image tensor: image in; styles, codes and the body taps out.",
        discussion: """
        --inputs holds 'image' [1, 3, 256, 256] (an aligned crop in [-1, 1]). The output holds 'styles' and \
        'codes' [1, styles, w] and 'c_after_unit6/20/23' (the IR-SE50 body after those units). When the inputs \
        file also holds reference outputs (as the parity fixtures do), their relative errors are printed.
        """
    )

    @Option(help: "Encoder bundle folder or weights.safetensors.") var model: String
    @Option(help: "Input tensors ('image') as safetensors.") var inputs: String
    @Option(name: [.short, .long], help: "Output .safetensors.") var output: String

    func run() throws {
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
        try SafeTensorsWriter.write(out, to: URL(fileURLWithPath: output), metadata: ["generator": "avatarize encoder", "model": model])
        for name in out.keys.sorted() where file.entries[name] != nil {
            let ref = try file.tensor(name)
            guard ref.count == out[name]!.count else { continue }
            print(name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: " max|a-b|/max|b| = %.3g", out[name]!.relativeError(to: ref)))
        }
        print("wrote \(output)")
    }
}
