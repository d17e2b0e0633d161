// Port of the head of pSp's BackboneEncoderUsingLastLayerIntoWPlus, as PREIM3D's released encoder uses it
// (mybabyyh/Preim3D models/encoders/psp_encoders.py; `--encoder_type WPlusEncoder`):
//   output_layer_2 = BatchNorm2d(512) → AdaptiveAvgPool2d((7, 7)) → Flatten → Linear(512·7·7, 512)
//   linear         = EqualLinear(512, 512·n_styles, lr_mul=1) (models/stylegan2/model.py: weight / √in)
//   x.view(-1, n_styles, 512)
// on the trunk's last map (16 × 16 for a 256² crop).
import Tensors

struct WPlusHead: Sendable {
    let architecture: EncoderArchitecture
    /// output_layer_2.0.
    let norm: BatchNorm2d
    /// output_layer_2.3 (a plain nn.Linear: no equalisation), weight [w, top·49], bias [w].
    let pooledLinear: [Float]
    let pooledBias: [Float]
    /// linear: [styles·w, w].
    let linear: EqualizedLinear

    init(_ w: EncoderWeights) {
        architecture = w.architecture
        norm = BottleneckIRSE.batchNorm(w, "output_layer_2.0")
        pooledLinear = w["output_layer_2.3.weight"].data
        pooledBias = w["output_layer_2.3.bias"].data
        linear = EqualizedLinear(weight: w["linear.weight"], bias: w["linear.bias"])
    }

    /// The last unit's map [top, h, w] → the styles [styles, w] (before latent_avg).
    func callAsFunction(_ map: Tensor) -> Tensor {
        let c = map.shape[0], h = map.shape[1], wd = map.shape[2]
        let side = EncoderArchitecture.wPlusPoolSide
        var normed = map
        normed.data.withUnsafeMutableBufferPointer { norm.apply($0.baseAddress!, count: h * wd) }
        let pooled = Self.adaptiveAveragePool(normed.data, channels: c, height: h, width: wd, side: side)
        let hidden = architecture.styleWidth
        var x = [Float](repeating: 0, count: hidden)
        pooled.withUnsafeBufferPointer { p in
            pooledLinear.withUnsafeBufferPointer { wp in
                pooledBias.withUnsafeBufferPointer { bp in
                    x.withUnsafeMutableBufferPointer { xp in
                        Gemm.linear(p.baseAddress!, rows: 1, inFeatures: c * side * side, weight: wp.baseAddress!,
                                    outFeatures: hidden, bias: bp.baseAddress!, into: xp.baseAddress!)
                    }
                }
            }
        }
        return Tensor(shape: [architecture.styleCount, architecture.styleWidth], data: linear(x))
    }

    /// torch's AdaptiveAvgPool2d: output cell i averages input rows ⌊i·H/S⌋ ..< ⌈(i+1)·H/S⌉ (windows may overlap
    /// when S does not divide H, as 16 → 7 does), likewise for columns. Output [channels, side, side], flattened
    /// channel by channel as torch's Flatten does.
    static func adaptiveAveragePool(_ x: [Float], channels: Int, height: Int, width: Int, side: Int) -> [Float] {
        func window(_ i: Int, _ n: Int) -> Range<Int> { (i * n / side)..<(((i + 1) * n + side - 1) / side) }
        var out = [Float](repeating: 0, count: channels * side * side)
        for ch in 0..<channels {
            for i in 0..<side {
                let rows = window(i, height)
                for j in 0..<side {
                    let cols = window(j, width)
                    var sum: Float = 0
                    for r in rows { for q in cols { sum += x[(ch * height + r) * width + q] } }
                    out[(ch * side + i) * side + j] = sum / Float(rows.count * cols.count)
                }
            }
        }
        return out
    }
}
