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

    /// Smooths `frames` vectors of `dim` values each (frame-major), sampled at `rate` frames per second.
    /// Columns `[from, to)` of each vector are smoothed; the rest are copied.
    public func apply(_ values: [Float], frames n: Int, dim: Int, rate: Double, columns: Range<Int>? = nil) -> [Float] {
        precondition(values.count == n * dim)
        let cols = columns ?? 0..<dim
        guard n > 1, !cols.isEmpty else { return values }
        var out = values
        switch self {
        case .none:
            return values
        case .gaussian(let sigma):
            let radius = Int((3 * sigma).rounded(.up))
            let kernel = (0...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
            for t in 0..<n {
                let lo = max(0, t - radius), hi = min(n - 1, t + radius)
                var wsum = 0.0
                for s in lo...hi { wsum += kernel[abs(s - t)] }
                for c in cols {
                    var acc = 0.0
                    for s in lo...hi { acc += kernel[abs(s - t)] * Double(values[s * dim + c]) }
                    out[t * dim + c] = Float(acc / wsum)
                }
            }
        case .exponential(let alpha):
            for c in cols {
                var y = Double(values[c])
                for t in 1..<n {
                    y = alpha * Double(values[t * dim + c]) + (1 - alpha) * y
                    out[t * dim + c] = Float(y)
                }
            }
        case let .oneEuro(minCutoff, beta, dCutoff):
            let te = 1 / max(rate, 1e-6)
            func smoothing(_ cutoff: Double) -> Double {
                let tau = 1 / (2 * Double.pi * cutoff)
                return 1 / (1 + tau / te)
            }
            let aD = smoothing(dCutoff)
            for c in cols {
                var x = Double(values[c]), dx = 0.0
                for t in 1..<n {
                    let raw = Double(values[t * dim + c])
                    dx = aD * ((raw - x) / te) + (1 - aD) * dx
                    let a = smoothing(minCutoff + beta * abs(dx))
                    x = a * raw + (1 - a) * x
                    out[t * dim + c] = Float(x)
                }
            }
        }
        return out
    }
}

/// Mean Euclidean distance between consecutive vectors: the jitter figure reported before and after
/// smoothing (for codes, cameras, or rendered frames as flat pixel vectors).
public func meanFrameToFrameDistance(_ values: [Float], frames n: Int, dim: Int) -> Double {
    guard n > 1 else { return 0 }
    var total = 0.0
    for t in 1..<n {
        var d = 0.0
        for c in 0..<dim {
            let x = Double(values[t * dim + c]) - Double(values[(t - 1) * dim + c])
            d += x * x
        }
        total += d.squareRoot()
    }
    return total / Double(n - 1)
}
