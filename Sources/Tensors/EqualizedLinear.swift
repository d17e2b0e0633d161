// Equalised-learning-rate linear layer (StyleGAN2's EqualLinear without activation):
// y = x · (W · lr_mul / √in)ᵀ + b · lr_mul, W stored [out, in] as PyTorch stores it. The runtime scale is
// folded into the weight once, as the reference multiplies it before F.linear.

public struct EqualizedLinear: Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    /// Effective weight W · lr_mul / √in, [out, in].
    public let weight: [Float]
    /// Effective bias b · lr_mul, [out].
    public let bias: [Float]

    /// - weight: [out, in]; bias: [out] (nil for none).
    public init(weight: Tensor, bias: Tensor?, lrMultiplier: Float = 1) {
        precondition(weight.rank == 2, "EqualizedLinear: weight shape \(weight.shape)")
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        precondition(bias == nil || bias!.count == outFeatures, "EqualizedLinear: bias shape \(bias!.shape)")
        let gain = lrMultiplier / Float(inFeatures).squareRoot()
        self.weight = weight.data.map { $0 * gain }
        self.bias = bias.map { b in lrMultiplier == 1 ? b.data : b.data.map { $0 * lrMultiplier } }
            ?? [Float](repeating: 0, count: outFeatures)
    }

    /// [rows, in] → [rows, out].
    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                Gemm.linear(x, rows: rows, inFeatures: inFeatures, weight: w.baseAddress!,
                            outFeatures: outFeatures, bias: b.baseAddress!, into: y)
            }
        }
    }

    /// One input vector → one output vector.
    public func callAsFunction(_ x: [Float]) -> [Float] {
        precondition(x.count == inFeatures, "EqualizedLinear: \(x.count) inputs, expected \(inFeatures)")
        var y = [Float](repeating: 0, count: outFeatures)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { forward(xp.baseAddress!, rows: 1, into: $0.baseAddress!) }
        }
        return y
    }
}
