import ArgumentParser
import Foundation
import Models
import Tensors

/// `avatarize bench generator`: times the EG3D generator per stage at full size (random weights unless
/// --model is given), with GFLOP/s per stage, peak memory and OpenBLAS's sgemm rate from the same run.
struct BenchGeneratorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generator",
        abstract: "Time the EG3D generator per stage (ms, GFLOP/s, peak memory, sgemm rate).",
        discussion: """
        Without --model, builds the full ffhq512-128 architecture with random weights. Prints medians over \
        --frames rendered frames after --warmup frames (a new seed and camera each); the last line is \
        `frame_ms=… gflops=… sgemm_gflops=…`, plus `psnr_db=…` with bf16: the lowest PSNR over the timed \
        frames of the 512² image against a float32 generator with the same weights, ws and camera (run \
        untimed; it also adds to the peak memory). AVATARIZE_NO_DNNL=1 runs every product on OpenBLAS for \
        an A/B comparison. Build with -c release before quoting numbers.
        """
    )

    @Option(help: "Bundle folder or weights.safetensors (default: random full-size weights).") var model: String?
    @Flag(help: "Use the full ffhq512-128 architecture with random weights (the default without --model).")
    var fullSize = false
    @Option(help: "Timed frames.") var frames = 3
    @Option(help: "Untimed warm-up frames.") var warmup = 1
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "Also print where the time goes, operation by operation (mean ms per timed frame), and the render's lookup traffic against a copy rate measured in the same run (measured before the generator is built).")
    var ops = false
    @Option(help: "fp32, bf16 or auto (bf16 where the CPU has AVX512_BF16).") var precision: PrecisionChoice = .auto
    @Flag(help: "Instead, time every convolution layer of the full-size architecture alone in OpenBLAS float32, oneDNN float32 and oneDNN bf16 (fastest of --frames alternating runs).")
    var layers = false

    func validate() throws {
        if model != nil && fullSize { throw ValidationError("give --model or --full-size, not both") }
        if frames < 1 { throw ValidationError("--frames must be at least 1") }
    }

    func run() throws {
        Parallel.configure(threads: threads)
        if layers { return try LayerComparison.run(frames: frames) }
        let precision = try self.precision.resolve()
        // Measured before the generator is built, so its arrays (128 MB) stay under the run's peak memory.
        let copy = ops ? MemoryBandwidth.copyRate() : 0
        let g: TriPlaneGenerator
        var reference: TriPlaneGenerator?  // float32, for the fidelity of bf16
        let label: String
        if let model {
            let bundle = try ModelBundle.open(URL(fileURLWithPath: model))
            g = try bundle.loadGenerator(precision: precision)
            if precision != .fp32 { reference = try bundle.loadGenerator() }
            label = bundle.url.path
        } else {
            let weights = Weights.random(.ffhq512())
            g = try TriPlaneGenerator(weights: weights, precision: precision)
            if precision != .fp32 { reference = try TriPlaneGenerator(weights: weights) }
            label = "ffhq512-128 architecture, random weights"
        }
        let arch = g.architecture
        let flops = arch.flops(options: g.options)
        print("model: \(label)")
        print("architecture: \(arch.numWs) ws, planes \(3 * arch.planeChannels)x\(arch.planeResolution)², "
              + "render \(g.options.neuralRenderingResolution)², image \(arch.imageResolution)², threads \(threads ?? Parallel.workers), "
              + "precision \(precision)")
        let sgemm = Gemm.measureRate()
        let camera = CameraDefaults()
        var rng = SplitMix64(seed: 42)
        OpProfile.enabled = ops
        var stageTimes: [String: [Double]] = [:]
        var frameTimes: [Double] = [], cpuTimes: [Double] = [], psnrs: [Double] = []
        for i in 0..<(warmup + frames) {
            let z = (0..<arch.zDim).map { _ in rng.gaussian() }
            // A different view each frame, within the range a talking head turns.
            let view = camera.camera(yaw: 0.35 * sin(Double(i) * 1.7), pitch: -0.1 + 0.12 * cos(Double(i) * 2.3)).vector
            let t0 = Clock.now(), c0 = Clock.cpuSeconds()
            let ws = g.map(z: z, camera: camera.frontal.vector)
            let tMap = Clock.now() - t0
            let out = g.synthesize(ws: ws, camera: view)
            let total = Clock.now() - t0
            let cpu = Clock.cpuSeconds() - c0
            guard i >= warmup else { _ = OpProfile.drain(); continue }
            frameTimes.append(total)
            cpuTimes.append(cpu)
            if let reference {
                OpProfile.enabled = false
                let exact = reference.synthesize(ws: ws, camera: view)
                OpProfile.enabled = ops
                psnrs.append(Double(out.image.psnr(to: exact.image, peakToPeak: 2, clampTo: -1...1)))
            }
            stageTimes["mapping", default: []].append(tMap)
            for (stage, s) in out.timings { stageTimes[stage, default: []].append(s) }
        }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s[s.count / 2] }
        print("stage".padding(toLength: 16, withPad: " ", startingAt: 0) + "         ms      GFLOP    GFLOP/s")
        for stage in ["mapping", "styles", "backbone", "rendering", "superresolution"] {
            guard let times = stageTimes[stage] else { continue }
            let ms = median(times) * 1000
            let gf = (flops[stage] ?? 0) / 1e9
            print(stage.padding(toLength: 16, withPad: " ", startingAt: 0)
                  + String(format: " %10.1f %10.2f %10.1f", ms, gf, gf > 0 ? gf / (ms / 1000) : 0))
        }
        if ops {
            print("operation                          ms/frame  calls/frame")
            let timed = OpProfile.drain()
            for op in timed {
                print(op.name.padding(toLength: 32, withPad: " ", startingAt: 0)
                      + String(format: " %10.1f %12d", op.seconds * 1000 / Double(frames), op.calls / frames))
            }
            // The render's lookups against the machine's bandwidth: the bytes their taps read (mostly from cache)
            // over their time, beside a STREAM-style copy on the same threads in this run.
            if let lookup = timed.first(where: { $0.name == TriPlaneGenerator.renderLookupOp }) {
                let workers = Double(threads ?? Parallel.workers)
                let wall = lookup.seconds / Double(frames) / workers
                let gbps = g.renderLookupBytes / wall / 1e9
                print(String(format: "render lookups: %.2f GB of taps a frame in %.1f ms (thread time / %d threads) = %.1f GB/s; "
                             + "copy rate %.1f GB/s (%.2f×)", g.renderLookupBytes / 1e9, wall * 1000, Int(workers), gbps, copy, gbps / copy))
            }
        }
        let frame = median(frameTimes)
        let totalGF = flops.values.reduce(0, +) / 1e9
        let convGF = ((flops["backbone"] ?? 0) + (flops["superresolution"] ?? 0)) / 1e9
        let convS = median(stageTimes["backbone"] ?? [0]) + median(stageTimes["superresolution"] ?? [0])
        print(String(format: "convolution stages: %.1f GFLOP/s = %.0f%% of sgemm", convGF / convS, 100 * convGF / convS / sgemm))
        if let peak = Clock.peakResidentBytes() { print(String(format: "peak memory: %.0f MB", Double(peak) / 1e6)) }
        print("frames (wall): " + frameTimes.map { String(format: "%.0f", $0 * 1000) }.joined(separator: " ") + " ms")
        // CPU time shows how busy the machine was: on an idle machine it is about threads × wall.
        print("frames (process CPU): " + cpuTimes.map { String(format: "%.0f", $0 * 1000) }.joined(separator: " ") + " ms")
        var fidelity = ""
        if !psnrs.isEmpty {
            print("PSNR vs float32 (dB): " + psnrs.map { String(format: "%.1f", $0) }.joined(separator: " "))
            fidelity = String(format: " psnr_db=%.1f", psnrs.min()!)
        }
        print(String(format: "frame_ms=%.1f gflops=%.1f sgemm_gflops=%.1f", frame * 1000, totalGF / frame, sgemm) + fidelity)
    }
}
