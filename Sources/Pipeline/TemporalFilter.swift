import Foundation

/// How a sequence of vectors (codes, cameras, quads) is smoothed over time.
public enum TemporalFilter: Sendable, Equatable, CustomStringConvertible {
    case none
    /// Centred Gaussian, σ in frames; the window (±3σ) is renormalised at the clip's ends.
    case gaussian(sigma: Double)
    /// Causal exponential moving average: y ← α·x + (1 − α)·y. Needs no future frames (live use).
    case exponential(alpha: Double)
    /// One-Euro filter (Casiez, Roussel, Vogel, CHI 2012): a low-pass whose cutoff rises with speed, so
    /// slow drift is smoothed hard and fast motion lags little. Cutoffs in Hz, at the clip's frame rate.
    case oneEuro(minCutoff: Double, beta: Double, derivativeCutoff: Double)

    /// Parses `none`, `gaussian:SIGMA`, `ema:ALPHA`, `one-euro:MINCUTOFF,BETA[,DCUTOFF]`.
    public init?(spec: String) {
        let parts = spec.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        let args = parts.count > 1 ? parts[1].split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } : []
        switch parts[0] {
        case "none", "off": self = .none
        case "gaussian", "gauss":
            guard args.count == 1, args[0] >= 0 else { return nil }
            self = args[0] == 0 ? .none : .gaussian(sigma: args[0])
        case "ema", "exponential", "causal":
            guard args.count == 1, args[0] > 0, args[0] <= 1 else { return nil }
            self = .exponential(alpha: args[0])
        case "one-euro", "oneeuro", "1euro":
            guard args.count == 2 || args.count == 3, args[0] > 0, args[1] >= 0 else { return nil }
            self = .oneEuro(minCutoff: args[0], beta: args[1], derivativeCutoff: args.count == 3 ? args[2] : 1.0)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .gaussian(let s): return "gaussian:\(s)"
        case .exponential(let a): return "ema:\(a)"
        case let .oneEuro(m, b, d): return "one-euro:\(m),\(b),\(d)"
        }
    }

    /// Frames on each side a centred filter reads (0 for causal ones).
    public var radius: Int {
        if case .gaussian(let sigma) = self { return Int((3 * sigma).rounded(.up)) }
        return 0
    }

    /// Smooths `frames` vectors of `dim` values each (frame-major), sampled at `rate` frames per second.
    /// Columns `[from, to)` of each vector are smoothed; the rest are copied.
    public func apply(_ values: [Float], frames n: Int, dim: Int, rate: Double, columns: Range<Int>? = nil) -> [Float] {
        precondition(values.count == n * dim)
        let frames = (0..<n).map { Array(values[($0 * dim)..<(($0 + 1) * dim)]) }
        var run = TemporalFilterRun(self, columns: columns ?? 0..<dim, rate: rate)
        var out: [Float] = []
        out.reserveCapacity(values.count)
        for t in 0..<n {
            var v = frames[t]
            run.emit(t, of: n, raw: { frames[$0] }, into: &v)
            out += v
        }
        return out
    }
}

/// One filter running over a sequence of vectors in frame order, so that a clip of any length is smoothed
/// in the memory of its window: causal filters keep their state here, the centred Gaussian reads the raw
/// frames within its radius. Frames must be emitted in order, starting at 0.
struct TemporalFilterRun {
    let filter: TemporalFilter
    let columns: Range<Int>
    private let kernel: [Double]
    private let te: Double
    /// EMA: y per column; One-Euro: x and dx per column.
    private var y: [Double] = []
    private var dx: [Double] = []
    private var nextFrame = 0

    init(_ filter: TemporalFilter, columns: Range<Int>, rate: Double) {
        self.filter = filter; self.columns = columns
        te = 1 / max(rate, 1e-6)
        if case .gaussian(let sigma) = filter {
            kernel = (0...filter.radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        } else { kernel = [] }
    }

    /// Writes the smoothed columns of frame `t` (of `n`) into `out`; `raw(s)` is raw frame s, asked only
    /// for s within the filter's radius of t.
    mutating func emit(_ t: Int, of n: Int, raw: (Int) -> [Float], into out: inout [Float]) {
        precondition(t == nextFrame, "frames are smoothed in order")
        nextFrame += 1
        guard !columns.isEmpty else { return }
        switch filter {
        case .none:
            return
        case .gaussian:
            guard n > 1 else { return }
            let radius = kernel.count - 1
            let lo = max(0, t - radius), hi = min(n - 1, t + radius)
            var wsum = 0.0
            for s in lo...hi { wsum += kernel[abs(s - t)] }
            var acc = [Double](repeating: 0, count: columns.count)
            for s in lo...hi {
                let w = kernel[abs(s - t)], v = raw(s)
                for (j, c) in columns.enumerated() { acc[j] += w * Double(v[c]) }
            }
            for (j, c) in columns.enumerated() { out[c] = Float(acc[j] / wsum) }
        case .exponential(let alpha):
            let v = raw(t)
            if t == 0 { y = columns.map { Double(v[$0]) }; return }
            for (j, c) in columns.enumerated() {
                y[j] = alpha * Double(v[c]) + (1 - alpha) * y[j]
                out[c] = Float(y[j])
            }
        case let .oneEuro(minCutoff, beta, dCutoff):
            let v = raw(t)
            if t == 0 { y = columns.map { Double(v[$0]) }; dx = [Double](repeating: 0, count: columns.count); return }
            func smoothing(_ cutoff: Double) -> Double {
                let tau = 1 / (2 * Double.pi * cutoff)
                return 1 / (1 + tau / te)
            }
            let aD = smoothing(dCutoff)
            for (j, c) in columns.enumerated() {
                let x = Double(v[c])
                dx[j] = aD * ((x - y[j]) / te) + (1 - aD) * dx[j]
                let a = smoothing(minCutoff + beta * abs(dx[j]))
                y[j] = a * x + (1 - a) * y[j]
                out[c] = Float(y[j])
            }
        }
    }

    /// Lets a stateless filter start at `frame` (a reader skipping ahead).
    mutating func jump(to frame: Int) {
        precondition(!isCausal || frame == nextFrame, "a causal filter sees every frame")
        nextFrame = frame
    }

    /// True when the output of a frame depends on every frame before it (so a reader cannot skip ahead).
    var isCausal: Bool {
        switch filter {
        case .exponential, .oneEuro: return true
        case .none, .gaussian: return false
        }
    }
}

/// Mean Euclidean distance between consecutive vectors: the jitter figure reported before and after
/// smoothing (for codes, cameras, or rendered frames as flat pixel vectors).
public func meanFrameToFrameDistance(_ values: [Float], frames n: Int, dim: Int) -> Double {
    guard n > 1 else { return 0 }
    var total = 0.0
    for t in 1..<n {
        total += euclideanDistance(values[((t - 1) * dim)..<(t * dim)], values[(t * dim)..<((t + 1) * dim)])
    }
    return total / Double(n - 1)
}

/// ‖a − b‖ in double precision.
func euclideanDistance(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
    var d = 0.0
    for (x, y) in zip(a, b) {
        let e = Double(y) - Double(x)
        d += e * e
    }
    return d.squareRoot()
}
