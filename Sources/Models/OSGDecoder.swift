// Port of OSGDecoder from NVlabs/eg3d training/triplane.py: the mean of the three plane features goes
// through FC → softplus → FC; channel 0 is the raw density σ, the rest sigmoid(·)·1.002 − 0.001.
import Tensors

struct OSGDecoder: Sendable {
    let fc0: FullyConnectedLayer  // decoder.net.0.weight [hidden, C], bias [hidden]
    let fc1: FullyConnectedLayer  // decoder.net.2.weight [1 + out, hidden], bias [1 + out]
    var inFeatures: Int { fc0.inFeatures }
    var hidden: Int { fc0.outFeatures }
    /// Output features besides density.
    var outFeatures: Int { fc1.outFeatures - 1 }

    init(_ w: Weights, lrMultiplier: Float) {
        fc0 = FullyConnectedLayer(w, prefix: "decoder.net.0", lrMultiplier: lrMultiplier)
        fc1 = FullyConnectedLayer(w, prefix: "decoder.net.2", lrMultiplier: lrMultiplier)
    }

    /// features [P, C] → raw [P, 1 + out] with σ in column 0 and activated features after it.
    /// `hiddenBuffer` holds P·hidden floats.
    func forward(_ features: UnsafePointer<Float>, count p: Int, hiddenBuffer: UnsafeMutablePointer<Float>,
                 output: UnsafeMutablePointer<Float>) {
        fc0.forward(features, rows: p, into: hiddenBuffer)
        Pointwise.softplus(hiddenBuffer, count: p * hidden)
        fc1.forward(hiddenBuffer, rows: p, into: output)
        let o = fc1.outFeatures
        Parallel.forChunks(p, grain: 1024) { s, e in
            for r in s..<e {
                let row = output + r * o
                for j in 1..<o { row[j] = Pointwise.sigmoid(row[j]) * (1 + 2 * 0.001) - 0.001 }
            }
        }
    }
}
