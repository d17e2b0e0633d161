// StyleGAN2's modulated convolution (training/networks_stylegan2.py: modulated_conv2d, with
// conv2d_resample for up = 2) for batch 1, in its fused form (the reference's fused_modconv): the weight
// is scaled per input channel by the style and, with demodulation, per output channel by
// 1/√(Σ w² + 1e-8), then convolved. ModulatedConvolution is the prepared layer that avoids this per frame.

public enum FusedModulatedConv {
    /// w'[o, i, ·] = w[o, i, ·] · s[i] (· d[o] with demodulation). weight: [O, I, k, k].
    public static func modulate(weight: UnsafePointer<Float>, outChannels o: Int, inChannels i: Int, taps: Int,
                                styles: UnsafePointer<Float>, demodulate: Bool) -> [Float] {
        var w = [Float](repeating: 0, count: o * i * taps)
        w.withUnsafeMutableBufferPointer { wp in
            let out = wp.baseAddress!
            Parallel.forChunks(o) { s, e in
                for oc in s..<e {
                    let row = out + oc * i * taps
                    var sum: Float = 0
                    for ic in 0..<i {
                        let st = styles[ic]
                        for t in 0..<taps {
                            let v = weight[(oc * i + ic) * taps + t] * st
                            row[ic * taps + t] = v
                            sum += v * v
                        }
                    }
                    if demodulate {
                        let d = 1 / (sum + 1e-8).squareRoot()
                        for j in 0..<(i * taps) { row[j] *= d }
                    }
                }
            }
        }
        return w
    }

    /// Convolves `input` [I, H, W] with an already modulated weight [O, I, k, k].
    /// up = 1: 'same' convolution (padding k/2). up = 2: transposed conv (stride 2) followed by the FIR
    /// filter with padding 1 and gain 4, which is what conv2d_resample does for a 3×3 kernel; output 2H×2W.
    public static func convolve(
        input: UnsafePointer<Float>, inChannels: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, outChannels: Int, kernel k: Int, up: Int,
        filter: [Float], filterSize f: Int, output: UnsafeMutablePointer<Float>, precision: Precision = .fp32
    ) {
        if up == 1 {
            Convolution.conv2d(input: input, inChannels: inChannels, height: height, width: width,
                               weight: weight, outChannels: outChannels, kernel: k, padding: k / 2, output: output,
                               precision: precision)
            return
        }
        precondition(up == 2, "only ×2 upsampling is supported")
        let a = Convolution.arrangeTransposed(weight: weight, outChannels: outChannels, inChannels: inChannels, kernel: k)
        a.withUnsafeBufferPointer {
            upsample(input: input, inChannels: inChannels, height: height, width: width, arrangedWeight: $0.baseAddress!,
                     outChannels: outChannels, kernel: k, filter: filter, filterSize: f, output: output,
                     precision: precision)
        }
    }

    /// The up = 2 case of `convolve` with the weight arranged by Convolution.arrangeTransposed.
    public static func upsample(
        input: UnsafePointer<Float>, inChannels: Int, height: Int, width: Int,
        arrangedWeight: UnsafePointer<Float>, outChannels: Int, kernel k: Int,
        filter: [Float], filterSize f: Int, output: UnsafeMutablePointer<Float>, precision: Precision = .fp32
    ) {
        let up = 2
        // conv2d_resample padding arithmetic for up = 2 and padding p = k/2.
        let p = k / 2
        let px0 = p + (f + up - 1) / 2 - (k - 1)
        let px1 = p + (f - up) / 2 - (k - up)
        let th = 2 * (height - 1) + k, tw = 2 * (width - 1) + k
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: outChannels * th * tw)
        defer { tmp.deallocate() }
        OpProfile.measure("transposed conv") {
        Convolution.convTranspose2dStride2(input: input, inChannels: inChannels, height: height, width: width,
                                           arrangedWeight: arrangedWeight, outChannels: outChannels, kernel: k, output: tmp,
                                           precision: precision)
        }
        OpProfile.measure("fir after up") {
        UpFirDn.upfirdn2d(input: tmp, channels: outChannels, height: th, width: tw, filter: filter,
                          filterHeight: f, filterWidth: f, up: 1, padX0: px0, padX1: px1, padY0: px0, padY1: px1,
                          gain: Float(up * up), output: output)
        }
    }
}
