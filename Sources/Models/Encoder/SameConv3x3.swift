// A 3×3, stride-1, padding-1 convolution without bias (the IR-SE units' res_layer.1 and the input layer)
// at a spatial size fixed when the encoder is built (its input is always 256²). When one of the engine's
// Winograd paths applies there, the weights are transformed once here instead of on every
// frame; otherwise Convolution.conv2d runs the im2col GEMM. Same result either way up to float rounding.
import Tensors

struct SameConv3x3: Sendable {
    enum Kernel: Sendable {
        /// Winograd.transformWeights of the [out, in, 3, 3] weight: [points, out, in] (bf16 for bf16 layers).
        case winograd(PackedWeights, Winograd.Tile)
        /// The [out, in, 3, 3] weight.
        case direct([Float])
    }

    let inChannels: Int
    let outChannels: Int
    /// Height and width of the planes this conv runs on.
    let side: Int
    let kernel: Kernel
    let precision: Precision

    /// - weight: [out, in, 3, 3]; side: the square plane size it will see.
    init(weight: [Float], outChannels: Int, inChannels: Int, side: Int, precision: Precision) {
        self.precision = precision
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.side = side
        if let tile = Winograd.tile(height: side, width: side, kernel: 3, padding: 1) {
            kernel = .winograd(PackedWeights(weight.withUnsafeBufferPointer {
                Winograd.transformWeights($0.baseAddress!, outChannels: outChannels, inChannels: inChannels, tile: tile)
            }, precision: precision), tile)
        } else {
            kernel = .direct(weight)
        }
    }

    /// input [in, side, side] → output [out, side, side] (overwritten).
    func callAsFunction(_ input: UnsafePointer<Float>, height: Int, width: Int, output: UnsafeMutablePointer<Float>) {
        precondition(height == side && width == side, "SameConv3x3 built for \(side)², run on \(height)×\(width)")
        switch kernel {
        case let .winograd(u, tile):
            Winograd.conv3x3(input: input, inChannels: inChannels, height: height, width: width, weights: u,
                             outChannels: outChannels, tile: tile, output: output)
        case let .direct(w):
            w.withUnsafeBufferPointer {
                Convolution.conv2d(input: input, inChannels: inChannels, height: height, width: width, weight: $0.baseAddress!,
                                   outChannels: outChannels, kernel: 3, padding: 1, output: output, allowWinograd: false,
                                   precision: precision)
            }
        }
    }
}
