import ArgumentParser
import Foundation
import Models
import Tensors

/// `avatarize bench encoder`: the e4e encoder (IR-SE50 + FPN + 14 GradualStyleBlocks) on 256² frames at
/// full size; milliseconds per frame and GFLOP/s (medians), next to OpenBLAS's own sgemm rate.
struct BenchEncoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder",
        abstract: "Time the e4e encoder per 256x256 frame (median ms, GFLOP/s).",
        discussion: """
        Without --model, random weights of the released layout (IR-SE50 at 64/128/256/512, w 512) are used; \
        speed does not depend on the values. GFLOP counts every conv and linear (about 119 GFLOP a frame \
        at full size). CPU time per frame is printed too, as it is steadier than wall time on a shared \
        machine. AVATARIZE_NO_WINOGRAD=1 turns off the Winograd 3x3 path and AVATARIZE_NO_DNNL=1 oneDNN, for \
        A/B comparisons. The last line is `frame_ms=… gflops=… sgemm_gflops=…`, plus `codes_rel_err=…` with \
        bf16: the largest max|a−b|/max|b| of the W+ codes against a float32 encoder with the same weights, \
        over --frames different images. Build with -c release before quoting numbers.
        """
    )

    @Option(help: "Encoder bundle folder or .safetensors (default: random full-size weights).") var model: String?
    @Option(help: "Number of styles for random weights (14 for EG3D).") var styles = 14
    @Option(help: "Timed frames.") var frames = 5
    @Option(help: "Untimed warm-up frames.") var warmup = 1
    @Option(help: "Worker threads; default: all cores.") var threads: Int?
    @Option(help: "fp32, bf16 or auto (bf16 where the CPU has AVX512_BF16).") var precision: PrecisionChoice = .auto

    func validate() throws {
        guard frames >= 1, warmup >= 0, styles >= 1 else { throw ValidationError("--frames, --styles must be ≥ 1 and --warmup ≥ 0") }
    }

    func run() throws {
        Parallel.configure(threads: threads)
        let t0 = Clock.now()
        let weights: EncoderWeights
        if let model {
            weights = try EncoderWeights.load(from: URL(fileURLWithPath: model))
        } else {
            weights = EncoderWeights.random(.released(styleCount: styles))
        }
        let precision = try self.precision.resolve()
        let encoder = Encoder4Editing(weights: weights, precision: precision)
        let reference = precision == .fp32 ? nil : Encoder4Editing(weights: weights)
        let a = encoder.architecture
        print(String(format: "model=%@ stages=%@ styles=%d w=%d load_s=%.2f precision=%@", model ?? "random", "\(a.stageWidths)",
                     a.styleCount, a.styleWidth, Clock.now() - t0, precision.rawValue))

        var rng = SplitMix64(seed: 7)
        let n = a.inputChannels * EncoderArchitecture.inputSize * EncoderArchitecture.inputSize
        func image() -> Tensor {
            Tensor(shape: encoder.inputShape, data: (0..<n).map { _ in Float(rng.next() >> 40) / Float(1 << 23) - 1 })
        }
        for _ in 0..<warmup { _ = try encoder.encode(image()) }
        var times: [Double] = [], cpu: [Double] = [], errors: [Float] = []
        for i in 0..<frames {
            let input = image()
            let c = Clock.cpuSeconds()
            let t = Clock.now()
            let out = try encoder.encode(input)
            times.append(Clock.now() - t)
            cpu.append(Clock.cpuSeconds() - c)
            var line = String(format: "frame %d: %.1f ms (cpu %.1f ms)", i + 1, times.last! * 1000, cpu.last! * 1000)
            if let reference {
                errors.append(out.codes.relativeError(to: try reference.encode(input).codes))
                line += String(format: ", W+ codes max|a-b|/max|b| vs float32 = %.2e", errors.last!)
            }
            print(line)
        }
        let flops = a.flopsPerImage
        let med = median(times)
        let blas = Gemm.measureRate(size: 1024, repeats: 3)
        print(String(format: "min_ms=%.1f cpu_ms_per_frame=%.1f gflop_per_frame=%.1f threads=%d",
                     (times.min() ?? 0) * 1000, median(cpu) * 1000, flops / 1e9, threads ?? Parallel.workers))
        if let peak = Clock.peakResidentBytes() { print(String(format: "peak_rss_mb=%.0f", Double(peak) / 1048576)) }
        print(String(format: "frame_ms=%.1f gflops=%.1f sgemm_gflops=%.1f", med * 1000, flops / med / 1e9, blas)
              + (errors.isEmpty ? "" : String(format: " codes_rel_err=%.2e", errors.max()!)))
    }
}
