import Foundation

/// A 2-D thin-plate spline (Bookstein 1989): the smoothest map (least bending energy) that takes each
/// control point `from[i]` exactly to `to[i]`: f(p) = a₀ + a₁x + a₂y + Σᵢ wᵢ U(|p − fromᵢ|), U(r) = r² log r².
/// avatarize warps EG3D's front (XY) tri-plane with it (the geometric deformation of 3DAvatarGAN, Abdal et al. 2023):
/// the spline is fitted from output positions to source positions, and each output feature is sampled there.
public struct ThinPlateSpline: Sendable, Equatable {
    public let from: [SIMD2<Double>]
    private let weights: [SIMD2<Double>]
    private let affine: (SIMD2<Double>, SIMD2<Double>, SIMD2<Double>)

    public static func == (a: ThinPlateSpline, b: ThinPlateSpline) -> Bool {
        a.from == b.from && a.weights == b.weights && a.affine == b.affine
    }

    public enum FitError: Error, CustomStringConvertible {
        case tooFewPoints(Int)
        case countMismatch(Int, Int)
        case degenerate
        public var description: String {
            switch self {
            case .tooFewPoints(let n): return "a thin-plate spline needs at least 3 control points, got \(n)"
            case let .countMismatch(a, b): return "control points: \(a) sources but \(b) targets"
            case .degenerate: return "control points are collinear or repeated; the spline has no unique solution"
            }
        }
    }

    /// Fits f with f(from[i]) = to[i].
    public init(from: [SIMD2<Double>], to: [SIMD2<Double>]) throws {
        guard from.count == to.count else { throw FitError.countMismatch(from.count, to.count) }
        let n = from.count
        guard n >= 3 else { throw FitError.tooFewPoints(n) }
        let m = n + 3
        var a = [Double](repeating: 0, count: m * m)
        var b = [Double](repeating: 0, count: m * 2)
        for i in 0..<n {
            for j in 0..<n { a[i * m + j] = Self.kernel(from[i] - from[j]) }
            let p = [1, from[i].x, from[i].y]
            for k in 0..<3 { a[i * m + n + k] = p[k]; a[(n + k) * m + i] = p[k] }
            b[i * 2] = to[i].x; b[i * 2 + 1] = to[i].y
        }
        guard Self.solve(&a, &b, size: m, rhs: 2) else { throw FitError.degenerate }
        self.from = from
        weights = (0..<n).map { SIMD2(b[$0 * 2], b[$0 * 2 + 1]) }
        affine = (SIMD2(b[n * 2], b[n * 2 + 1]), SIMD2(b[(n + 1) * 2], b[(n + 1) * 2 + 1]), SIMD2(b[(n + 2) * 2], b[(n + 2) * 2 + 1]))
    }

    static func kernel(_ d: SIMD2<Double>) -> Double {
        let r2 = (d * d).sum()
        return r2 > 0 ? r2 * log(r2) : 0
    }

    public func callAsFunction(_ p: SIMD2<Double>) -> SIMD2<Double> {
        var v = affine.0 + affine.1 * p.x + affine.2 * p.y
        for (c, w) in zip(from, weights) { v += w * Self.kernel(p - c) }
        return v
    }

    /// Gaussian elimination with partial pivoting on an m×m system with `rhs` right-hand sides (in place).
    private static func solve(_ a: inout [Double], _ b: inout [Double], size m: Int, rhs: Int) -> Bool {
        for col in 0..<m {
            var pivot = col
            for r in (col + 1)..<m where abs(a[r * m + col]) > abs(a[pivot * m + col]) { pivot = r }
            guard abs(a[pivot * m + col]) > 1e-12 else { return false }
            if pivot != col {
                for k in 0..<m { a.swapAt(col * m + k, pivot * m + k) }
                for k in 0..<rhs { b.swapAt(col * rhs + k, pivot * rhs + k) }
            }
            for r in 0..<m where r != col {
                let f = a[r * m + col] / a[col * m + col]
                if f == 0 { continue }
                for k in col..<m { a[r * m + k] -= f * a[col * m + k] }
                for k in 0..<rhs { b[r * rhs + k] -= f * b[col * rhs + k] }
            }
        }
        for r in 0..<m { for k in 0..<rhs { b[r * rhs + k] /= a[r * m + r] } }
        return true
    }

    /// The built-in `exaggerate` warp: features within `radius` of `center` (plane coordinates in [−1, 1])
    /// grow by `factor`, the plane's border stays put. Output positions map back to source positions, so
    /// a ring at radius r·factor samples the source ring at radius r.
    public static func exaggerate(factor: Double, center: SIMD2<Double> = SIMD2(0, 0), radius: Double = 0.35) throws -> ThinPlateSpline {
        var outPts: [SIMD2<Double>] = [], srcPts: [SIMD2<Double>] = []
        for k in 0..<8 {
            let a = Double(k) * .pi / 4
            let dir = SIMD2(cos(a), sin(a))
            outPts.append(center + dir * radius * factor); srcPts.append(center + dir * radius)
        }
        outPts.append(center); srcPts.append(center)
        for x in [-1.0, 0, 1] { for y in [-1.0, 0, 1] where !(x == 0 && y == 0) {
            outPts.append(SIMD2(x, y)); srcPts.append(SIMD2(x, y))
        } }
        return try ThinPlateSpline(from: outPts, to: srcPts)
    }
}

/// Where each output pixel of an H×W plane samples from, in source pixel coordinates (align_corners =
/// false: pixel i's centre is at plane coordinate (2i + 1)/W − 1). Computed once per frame and reused for
/// every channel.
public struct PlaneWarp: Sendable {
    public let width: Int
    public let height: Int
    let sx: [Float]
    let sy: [Float]

    public init(spline: ThinPlateSpline, width: Int, height: Int) {
        self.width = width; self.height = height
        var sx = [Float](repeating: 0, count: width * height), sy = sx
        for y in 0..<height {
            for x in 0..<width {
                let p = SIMD2((2 * Double(x) + 1) / Double(width) - 1, (2 * Double(y) + 1) / Double(height) - 1)
                let q = spline(p)
                var px = ((q.x + 1) * Double(width) - 1) / 2, py = ((q.y + 1) * Double(height) - 1) / 2
                // Snap solver round-off so that an identity spline samples pixel centres exactly.
                if abs(px - px.rounded()) < 1e-6 { px = px.rounded() }
                if abs(py - py.rounded()) < 1e-6 { py = py.rounded() }
                sx[y * width + x] = Float(px); sy[y * width + x] = Float(py)
            }
        }
        self.sx = sx; self.sy = sy
    }

    /// Warps `channels` planes of H×W floats (planar), bilinear with zero padding, into `output`.
    public func apply(_ input: UnsafePointer<Float>, channels: Int, into output: UnsafeMutablePointer<Float>) {
        let hw = width * height
        for i in 0..<hw {
            let x = sx[i], y = sy[i]
            let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
            let fx = x - Float(x0), fy = y - Float(y0)
            let taps = [(x0, y0, (1 - fx) * (1 - fy)), (x0 + 1, y0, fx * (1 - fy)), (x0, y0 + 1, (1 - fx) * fy), (x0 + 1, y0 + 1, fx * fy)]
            for c in 0..<channels {
                var acc: Float = 0
                for (tx, ty, w) in taps where w != 0 && tx >= 0 && ty >= 0 && tx < width && ty < height {
                    acc += w * input[c * hw + ty * width + tx]
                }
                output[c * hw + i] = acc
            }
        }
    }
}
