import Foundation
import Models
import Tensors

/// `bench generator --layers`: each modulated convolution of the full-size ffhq512-128 generator alone, on
/// random weights, inputs and styles, timed with OpenBLAS float32, oneDNN float32 and oneDNN bf16 products
/// (the same transforms around them). Variants alternate and the fastest of `frames` runs counts, so a
/// busy machine slows all three alike. The bf16 column also gives the layer's error against float32.
enum LayerComparison {
    static func run(frames: Int) throws {
        let arch = GeneratorArchitecture.ffhq512()
        var specs: [(name: String, inC: Int, outC: Int, up: Int, side: Int)] = []
        for b in arch.backbone + arch.superresolution {
            if b.inChannels != 0 { specs.append((b.prefix + ".conv0", b.inChannels, b.outChannels, 2, b.resolution / 2)) }
            specs.append((b.prefix + ".conv1", b.outChannels, b.outChannels, 1, b.resolution))
        }
        let bf16 = Precision.bf16Supported
        let sgemm = Gemm.measureRate()
        print("layer                           in  out up  side | ms: openblas_f32  dnnl_f32  dnnl_bf16 | bf16 err")
        var rng = SplitMix64(seed: 1)
        // StyleGAN2's [1, 3, 3, 1] low-pass filter, as the released models' resample_filter.
        let taps: [Float] = [1, 3, 3, 1]
        let filter = taps.flatMap { a in taps.map { a * $0 / 64 } }
        var totals = [Double](repeating: 0, count: 3)
        for s in specs {
            let w = (0..<(s.outC * s.inC * 9)).map { _ in rng.gaussian() }
            func layer(_ p: Precision) -> ModulatedConvolution {
                ModulatedConvolution(weight: w, outChannels: s.outC, inChannels: s.inC, kernel: 3, up: s.up, inputSide: s.side,
                                     filter: filter, filterSize: 4, precision: p)
            }
            let f32 = layer(.fp32), b16 = bf16 ? layer(.bf16) : nil
            let x = (0..<(s.inC * s.side * s.side)).map { _ in rng.gaussian() }
            let styles = (0..<s.inC).map { _ in 1 + 0.2 * rng.gaussian() }
            let outCount = s.outC * s.side * s.side * s.up * s.up
            var outputs = [[Float]](repeating: [Float](repeating: 0, count: outCount), count: 3)
            var best = [Double](repeating: .infinity, count: 3)
            for _ in 0..<frames {
                for v in 0..<3 {
                    guard let conv = v == 2 ? b16 : f32 else { continue }
                    Gemm.dnnlEnabled = v > 0
                    defer { Gemm.dnnlEnabled = true }
                    let t = Clock.now()
                    x.withUnsafeBufferPointer { xp in styles.withUnsafeBufferPointer { sp in
                        outputs[v].withUnsafeMutableBufferPointer { op in
                            conv.forward(input: xp.baseAddress!, height: s.side, width: s.side, styles: sp.baseAddress!,
                                         output: op.baseAddress!)
                        }
                    }}
                    best[v] = min(best[v], Clock.now() - t)
                }
            }
            for v in 0..<3 where best[v].isFinite { totals[v] += best[v] }
            let err = bf16 ? Tensor(shape: [outCount], data: outputs[2]).relativeError(to: Tensor(shape: [outCount], data: outputs[1])) : .nan
            print(s.name.padding(toLength: 30, withPad: " ", startingAt: 0)
                  + String(format: " %4d %4d %2d %5d | %16.1f %9.1f %10.1f | %.1e", s.inC, s.outC, s.up, s.side,
                           best[0] * 1000, best[1] * 1000, best[2] * 1000, err))
        }
        print(String(format: "total (ms)%57.1f %9.1f %10.1f", totals[0] * 1000, totals[1] * 1000, totals[2] * 1000))
        print(String(format: "layers_ms openblas_f32=%.1f dnnl_f32=%.1f dnnl_bf16=%.1f sgemm_gflops=%.1f",
                     totals[0] * 1000, totals[1] * 1000, totals[2] * 1000, sgemm))
    }
}
