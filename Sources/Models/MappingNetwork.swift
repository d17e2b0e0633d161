// Port of MappingNetwork from NVlabs/eg3d training/networks_stylegan2.py (as used by triplane.py):
// z and an embedded camera, each normalised by its second moment, concatenated, then FC layers with
// leaky ReLU and lr multiplier 0.01, broadcast to num_ws, truncated toward w_avg.
import Tensors

public struct MappingNetwork: Sendable {
    let embed: FullyConnectedLayer   // embed.weight [w_dim, c_dim]
    let layers: [FullyConnectedLayer] // fc0.weight [w_dim, z_dim + w_dim], fc1… [w_dim, w_dim]
    /// backbone.mapping.w_avg [w_dim]
    public let wAvg: [Float]
    public let numWs: Int
    public let zDim: Int
    public let cDim: Int

    init(_ w: Weights, arch: GeneratorArchitecture, lrMultiplier: Float) {
        embed = FullyConnectedLayer(w, prefix: "backbone.mapping.embed")
        layers = (0..<arch.mappingLayers).map {
            FullyConnectedLayer(w, prefix: "backbone.mapping.fc\($0)", lrMultiplier: lrMultiplier,
                                activation: .leakyReLU(0.2))
        }
        wAvg = w["backbone.mapping.w_avg"].data
        numWs = arch.numWs
        zDim = arch.zDim
        cDim = arch.cDim
    }

    /// x · rsqrt(mean(x²) + 1e-8)
    static func normalize2ndMoment(_ x: [Float]) -> [Float] {
        var s: Float = 0
        for v in x { s += v * v }
        let r = 1 / (s / Float(x.count) + 1e-8).squareRoot()
        return x.map { $0 * r }
    }

    /// torch.lerp's formula: start + t·(end − start) below t = 0.5, end − (end − start)·(1 − t) above.
    static func lerp(_ start: Float, _ end: Float, _ t: Float) -> Float {
        t < 0.5 ? start + t * (end - start) : end - (end - start) * (1 - t)
    }

    /// z [z_dim], c [c_dim] (already scaled by c_scale) → ws [num_ws, w_dim]. Truncation lerps the first
    /// `cutoff` rows toward w_avg by ψ (ψ = 1 leaves them unchanged).
    public func callAsFunction(z: [Float], c: [Float], psi: Float, cutoff: Int?) -> Tensor {
        var x = Self.normalize2ndMoment(z)
        x += Self.normalize2ndMoment(embed(c))
        for layer in layers { x = layer(x) }
        let wDim = x.count
        var ws = [Float](repeating: 0, count: numWs * wDim)
        let cut = min(cutoff ?? numWs, numWs)
        for r in 0..<numWs {
            for j in 0..<wDim {
                ws[r * wDim + j] = (psi != 1 && r < cut) ? Self.lerp(wAvg[j], x[j], psi) : x[j]
            }
        }
        return Tensor(shape: [numWs, wDim], data: ws)
    }
}
