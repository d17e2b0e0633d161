// A demodulated StyleGAN2 convolution layer with its weight-side work done once, at load. Per frame only
// the styles change, so instead of modulating and re-transforming the whole weight on every call:
// - 3×3 'same' layers on planes where Winograd applies keep the Winograd-transformed weight, and scale
//   input channel i by s[i] and output channel o by d[o] inside the transforms (modulated_conv2d's unfused
//   form, which the reference uses in training; equal to the fused form up to float32 rounding);
// - ×2 layers on planes of 64² and more become four 3×3 convolutions of the input, one per output phase:
//   the transposed convolution (stride 2) followed by the 4×4 FIR (padding 1, gain 4) puts, at output
//   pixel (2Y + py, 2X + px), a 3×3 neighbourhood of input pixel (Y, X) weighted by a kernel that depends
//   only on the phase. Those kernels are computed and Winograd-transformed at load (4 × 36 planes of
//   O × I, which is why small planes with 512 channels, where it pays least, skip it);
// - other ×2 layers keep the weight arranged for the transposed convolution and scale that copy per frame;
// - anything else modulates the weight per call (FusedModulatedConv.modulate + convolve).
// d[o] = 1/√(Σᵢ s[i]²·Σₜ w[o,i,t]² + 1e−8), the reference's dcoefs.

public struct ModulatedConvolution: Sendable {
    public let outChannels: Int
    public let inChannels: Int
    public let kernel: Int
    public let up: Int
    let weightSquares: [Float]  // [O, I]: Σₜ w[o, i, t]²
    let filter: [Float]
    let filterSize: Int
    let plan: Plan
    /// Precision of the layer's products (see Precision); set at load.
    public let precision: Precision

    enum Plan: Sendable {
        /// Transformed weight [points, O, I] for planes of `side`² (bf16 for bf16 layers).
        case winograd(PackedWeights, Winograd.Tile, side: Int)
        /// Winograd F(4×4)-transformed phase kernels (py, px) = (p / 2, p % 2), each [36, O, I].
        case polyphase([PackedWeights], side: Int)
        /// Convolution.arrangeTransposed(weight): [O·k², I].
        case transposed([Float])
        /// The weight [O, I, k, k] itself. Only this plan keeps it: the others hold just the form they
        /// read, so a layer's weights are not resident twice.
        case direct([Float])
    }

    /// - inputSide: the side of the square planes this layer will see (before upsampling).
    public init(weight: [Float], outChannels: Int, inChannels: Int, kernel: Int, up: Int, inputSide: Int,
                filter: [Float], filterSize: Int, precision: Precision = .fp32) {
        precondition(weight.count == outChannels * inChannels * kernel * kernel, "weight is not [O, I, k, k]")
        precondition(up == 1 || up == 2, "only ×1 and ×2 are supported")
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.kernel = kernel
        self.up = up
        self.filter = filter
        self.filterSize = filterSize
        self.precision = precision
        let taps = kernel * kernel
        weightSquares = (0..<(outChannels * inChannels)).map { p in
            var s: Float = 0
            for t in 0..<taps { let v = weight[p * taps + t]; s += v * v }
            return s
        }
        if up == 2, kernel == 3, filterSize == 4, inputSide >= Self.polyphaseMinSide,
           Winograd.tile(height: inputSide, width: inputSide, kernel: 3, padding: 1) == .f4x4 {
            let kernels = Self.phaseKernels(weight: weight, outChannels: outChannels, inChannels: inChannels, filter: filter)
            plan = .polyphase(kernels.map { k in
                PackedWeights(k.withUnsafeBufferPointer {
                    Winograd.transformWeights($0.baseAddress!, outChannels: outChannels, inChannels: inChannels, tile: .f4x4)
                }, precision: precision)
            }, side: inputSide)
        } else if up == 2 {
            plan = .transposed(weight.withUnsafeBufferPointer {
                Convolution.arrangeTransposed(weight: $0.baseAddress!, outChannels: outChannels, inChannels: inChannels,
                                              kernel: kernel)
            })
        } else if let tile = Winograd.tile(height: inputSide, width: inputSide, kernel: kernel, padding: kernel / 2) {
            plan = .winograd(PackedWeights(weight.withUnsafeBufferPointer {
                Winograd.transformWeights($0.baseAddress!, outChannels: outChannels, inChannels: inChannels, tile: tile)
            }, precision: precision), tile, side: inputSide)
        } else {
            plan = .direct(weight)
        }
    }

    /// Smallest input side for the polyphase form of ×2 layers.
    static let polyphaseMinSide = 64

    /// The four 3×3 phase kernels [O, I, 3, 3] of a 3×3 weight upsampled by a stride-2 transposed
    /// convolution and then filtered by upfirdn2d with the 4×4 `filter`, padding 1 and gain 4 (what
    /// conv2d_resample does for up = 2). With the filter's taps g = flip(filter)·4, output v of the
    /// padded filter reads T[v + j − 1] (j = 0…3) and T[u] = Σ w[ky]·x[(u − ky)/2] for even u − ky, so
    /// output 2Y + py takes input Y + δ through w[ky]·g[j] whenever py + j − 1 − ky = 2δ (δ ∈ {−1, 0, 1}).
    static func phaseKernels(weight: [Float], outChannels: Int, inChannels: Int, filter: [Float]) -> [[Float]] {
        precondition(filter.count == 16, "the polyphase form needs a 4×4 filter")
        let g = (0..<16).map { filter[15 - $0] * 4 }  // flipped in both axes, times gain
        // Per phase, the list of (kernel tap, weight tap, filter tap) contributions.
        var terms = [[(Int, Int, Int)]](repeating: [], count: 4)
        for py in 0..<2 { for px in 0..<2 {
            for ky in 0..<3 { for kx in 0..<3 { for jy in 0..<4 { for jx in 0..<4 {
                let qy = py + jy - 1 - ky, qx = px + jx - 1 - kx
                guard qy & 1 == 0, qx & 1 == 0 else { continue }
                let ty = qy / 2 + 1, tx = qx / 2 + 1  // δ + 1: the 'same' 3×3 tap
                terms[py * 2 + px].append((ty * 3 + tx, ky * 3 + kx, jy * 4 + jx))
            }}}}
        }}
        return terms.map { list in
            var k = [Float](repeating: 0, count: weight.count)
            for p in 0..<(outChannels * inChannels) {
                for (t, wt, ft) in list { k[p * 9 + t] += weight[p * 9 + wt] * g[ft] }
            }
            return k
        }
    }

    /// The demodulation coefficients d[o] for these styles.
    public func demodulation(styles s: UnsafePointer<Float>) -> [Float] {
        (0..<outChannels).map { o in
            var sum: Float = 0
            let q = o * inChannels
            for i in 0..<inChannels { sum += s[i] * s[i] * weightSquares[q + i] }
            return 1 / (sum + 1e-8).squareRoot()
        }
    }

    /// input [I, H, W] → output [O, H·up, W·up] (overwritten), modulated by `styles` [I] and demodulated.
    /// The Winograd and polyphase plans run only on the plane size they were built for.
    public func forward(input: UnsafePointer<Float>, height h: Int, width w: Int, styles: UnsafePointer<Float>,
                        output: UnsafeMutablePointer<Float>) {
        switch plan {
        case let .winograd(u, tile, side):
            precondition(h == side && w == side, "modulated conv built for \(side)², run on \(h)×\(w)")
            let d = demodulation(styles: styles)
            d.withUnsafeBufferPointer { dp in
                Winograd.conv3x3(input: input, inChannels: inChannels, height: h, width: w, weights: u,
                                 outChannels: outChannels, tile: tile, inputScale: styles, outputScale: dp.baseAddress!,
                                 output: output)
            }
        case let .polyphase(phases, side):
            precondition(h == side && w == side, "modulated conv built for \(side)², run on \(h)×\(w)")
            let d = demodulation(styles: styles)
            d.withUnsafeBufferPointer { dp in
                Winograd.upsamplingConv3x3(input: input, inChannels: inChannels, height: h, width: w, phaseWeights: phases,
                                           outChannels: outChannels, inputScale: styles, outputScale: dp.baseAddress!,
                                           output: output)
            }
        case let .transposed(arranged):
            let d = demodulation(styles: styles)
            let taps = kernel * kernel, ic = inChannels
            var a = [Float](repeating: 0, count: arranged.count)
            OpProfile.measure("modulate") {
                arranged.withUnsafeBufferPointer { sp in
                    a.withUnsafeMutableBufferPointer { ap in
                        let src = sp.baseAddress!, dst = ap.baseAddress!
                        Parallel.forChunks(outChannels * taps) { s, e in
                            for row in s..<e {
                                let scale = d[row / taps]
                                let from = src + row * ic, to = dst + row * ic
                                for i in 0..<ic { to[i] = from[i] * styles[i] * scale }
                            }
                        }
                    }
                }
            }
            a.withUnsafeBufferPointer {
                FusedModulatedConv.upsample(input: input, inChannels: ic, height: h, width: w, arrangedWeight: $0.baseAddress!,
                                       outChannels: outChannels, kernel: kernel, filter: filter, filterSize: filterSize,
                                       output: output, precision: precision)
            }
        case let .direct(weight):
            let m = OpProfile.measure("modulate") {
                weight.withUnsafeBufferPointer {
                    FusedModulatedConv.modulate(weight: $0.baseAddress!, outChannels: outChannels, inChannels: inChannels,
                                           taps: kernel * kernel, styles: styles, demodulate: true)
                }
            }
            m.withUnsafeBufferPointer {
                FusedModulatedConv.convolve(input: input, inChannels: inChannels, height: h, width: w, weight: $0.baseAddress!,
                                       outChannels: outChannels, kernel: kernel, up: up, filter: filter,
                                       filterSize: filterSize, output: output, precision: precision)
            }
        }
    }
}
