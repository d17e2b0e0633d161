// The resizes the encoders' own data pipelines apply to an aligned face crop before their networks see it:
//   - PIL's Image.resize (Pillow src/libImaging/Resample.c): separable, antialiased (the filter's support widened by
//     the shrink factor), bilinear (support 1) or bicubic (a = −0.5, support 2); on 8-bit images the coefficients
//     are fixed point with 22 fractional bits and each pass (horizontal, then vertical) rounds to 8 bits;
//   - F.interpolate(mode='bilinear', align_corners=False) without antialiasing, as torchvision's Resize did on
//     tensors before 0.17.
import Foundation

public enum ImageResize {
    public enum Filter: Sendable {
        case bilinear, bicubic

        /// Resample.c bilinear_filter / bicubic_filter.
        func weight(_ x: Double) -> Double {
            let x = abs(x)
            switch self {
            case .bilinear: return x < 1 ? 1 - x : 0
            case .bicubic:
                let a = -0.5
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                return 0
            }
        }

        var support: Double { self == .bilinear ? 1 : 2 }
    }

    /// One output position's taps: the first input index and the normalised weights (Resample.c precompute_coeffs).
    struct Taps {
        var first: [Int]
        var weights: [[Double]]
    }

    static func taps(from n: Int, to m: Int, filter: Filter) -> Taps {
        let scale = Double(n) / Double(m)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        var first: [Int] = [], weights: [[Double]] = []
        for xx in 0..<m {
            let center = (Double(xx) + 0.5) * scale
            // (int)(v + 0.5): C truncates toward zero.
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), n)
            var w: [Double] = []
            var total = 0.0
            for x in lo..<max(hi, lo) {
                let v = filter.weight((Double(x) - center + 0.5) / filterScale)
                w.append(v)
                total += v
            }
            if total != 0 { w = w.map { $0 / total } }
            first.append(lo)
            weights.append(w)
        }
        return Taps(first: first, weights: weights)
    }

    /// PIL's Image.resize((toWidth, toHeight), filter) on 8-bit interleaved pixels (RGB: channels 3).
    public static func pil(_ pixels: [UInt8], width: Int, height: Int, channels: Int = 3, toWidth: Int, toHeight: Int,
                           filter: Filter) -> [UInt8] {
        precondition(pixels.count == width * height * channels)
        let bits = 22
        func fixed(_ t: Taps) -> [[Int]] {
            t.weights.map { $0.map { $0 < 0 ? Int(-0.5 + $0 * Double(1 << bits)) : Int(0.5 + $0 * Double(1 << bits)) } }
        }
        func clip8(_ v: Int) -> UInt8 {
            if v >= (1 << bits) << 8 { return 255 }
            if v <= 0 { return 0 }
            return UInt8(v >> bits)
        }
        var current = pixels, w = width, h = height
        // Resample.c runs a pass only where the size changes: horizontal first, then vertical.
        if toWidth != width {
            let t = taps(from: width, to: toWidth, filter: filter), k = fixed(t)
            var out = [UInt8](repeating: 0, count: toWidth * h * channels)
            for y in 0..<h {
                for xx in 0..<toWidth {
                    for c in 0..<channels {
                        var s = 1 << (bits - 1)
                        for (j, kj) in k[xx].enumerated() { s += Int(current[(y * w + t.first[xx] + j) * channels + c]) * kj }
                        out[(y * toWidth + xx) * channels + c] = clip8(s)
                    }
                }
            }
            current = out
            w = toWidth
        }
        if toHeight != height {
            let t = taps(from: height, to: toHeight, filter: filter), k = fixed(t)
            var out = [UInt8](repeating: 0, count: w * toHeight * channels)
            for yy in 0..<toHeight {
                for x in 0..<w {
                    for c in 0..<channels {
                        var s = 1 << (bits - 1)
                        for (j, kj) in k[yy].enumerated() { s += Int(current[((t.first[yy] + j) * w + x) * channels + c]) * kj }
                        out[(yy * w + x) * channels + c] = clip8(s)
                    }
                }
            }
            current = out
            h = toHeight
        }
        return current
    }

    /// The same antialiased filter on a float [C, H, W] tensor without rounding (what
    /// F.interpolate(mode, antialias=True) computes; PIL's 8-bit path rounds this to 8 bits twice).
    public static func antialiased(_ t: Tensor, toHeight: Int, toWidth: Int, filter: Filter) -> Tensor {
        let c = t.shape[0], h = t.shape[1], w = t.shape[2]
        let tx = taps(from: w, to: toWidth, filter: filter), ty = taps(from: h, to: toHeight, filter: filter)
        var mid = [Double](repeating: 0, count: c * h * toWidth)
        for ch in 0..<c {
            for y in 0..<h {
                for xx in 0..<toWidth {
                    var s = 0.0
                    for (j, k) in tx.weights[xx].enumerated() { s += Double(t.data[(ch * h + y) * w + tx.first[xx] + j]) * k }
                    mid[(ch * h + y) * toWidth + xx] = s
                }
            }
        }
        var out = Tensor(zeros: [c, toHeight, toWidth])
        for ch in 0..<c {
            for yy in 0..<toHeight {
                for x in 0..<toWidth {
                    var s = 0.0
                    for (j, k) in ty.weights[yy].enumerated() { s += mid[(ch * h + ty.first[yy] + j) * toWidth + x] * k }
                    out.data[(ch * toHeight + yy) * toWidth + x] = Float(s)
                }
            }
        }
        return out
    }

    /// F.interpolate(mode='bilinear', align_corners=False, antialias=False) on [C, H, W]: each output pixel reads the
    /// two nearest input pixels per axis at source position max((i + ½)·scale − ½, 0).
    public static func bilinear(_ t: Tensor, toHeight: Int, toWidth: Int) -> Tensor {
        let c = t.shape[0], h = t.shape[1], w = t.shape[2]
        func axis(_ n: Int, _ m: Int) -> [(Int, Int, Float)] {
            let scale = Float(n) / Float(m)
            return (0..<m).map { i in
                let src = max((Float(i) + 0.5) * scale - 0.5, 0)
                let i0 = min(Int(src), n - 1)
                return (i0, min(i0 + 1, n - 1), src - Float(i0))
            }
        }
        let ys = axis(h, toHeight), xs = axis(w, toWidth)
        var out = Tensor(zeros: [c, toHeight, toWidth])
        for ch in 0..<c {
            let base = ch * h * w
            for (yy, (y0, y1, ly)) in ys.enumerated() {
                for (xx, (x0, x1, lx)) in xs.enumerated() {
                    let top = (1 - lx) * t.data[base + y0 * w + x0] + lx * t.data[base + y0 * w + x1]
                    let bottom = (1 - lx) * t.data[base + y1 * w + x0] + lx * t.data[base + y1 * w + x1]
                    out.data[(ch * toHeight + yy) * toWidth + xx] = (1 - ly) * top + ly * bottom
                }
            }
        }
        return out
    }
}
