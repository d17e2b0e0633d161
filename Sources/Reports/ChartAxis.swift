import Foundation

/// A linear axis with "nice" ticks (steps of 1, 2 or 5 × 10ⁿ) covering the data, mapping values to pixels.
public struct ChartAxis: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public var step: Double
    /// Pixel positions of `lower` and `upper` (for a y axis the first is the larger: SVG's y grows downwards).
    public var pixelLower: Double
    public var pixelUpper: Double

    /// An axis over `values` (non-finite ones ignored), about `ticks` ticks, optionally always including zero.
    public init(covering values: [Double], ticks: Int = 5, includeZero: Bool = false, pixels: (Double, Double)) {
        var lo = values.filter(\.isFinite).min() ?? 0, hi = values.filter(\.isFinite).max() ?? 1
        if includeZero { lo = min(lo, 0); hi = max(hi, 0) }
        if hi - lo < 1e-12 { let pad = max(abs(hi) * 0.1, 1e-3); lo -= pad; hi += pad }
        let raw = (hi - lo) / Double(max(ticks, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        lower = floor(lo / step) * step
        upper = ceil(hi / step) * step
        self.step = step
        pixelLower = pixels.0; pixelUpper = pixels.1
    }

    public func pixel(_ value: Double) -> Double {
        pixelLower + (value - lower) / (upper - lower) * (pixelUpper - pixelLower)
    }

    /// The inverse of `pixel`: what a drawn coordinate stands for.
    public func value(atPixel p: Double) -> Double {
        lower + (p - pixelLower) / (pixelUpper - pixelLower) * (upper - lower)
    }

    public var ticks: [Double] {
        let n = Int(((upper - lower) / step).rounded())
        return (0...n).map { lower + Double($0) * step }
    }

    /// A tick's label with as many decimals as the step needs.
    public func label(_ value: Double) -> String {
        let decimals = max(0, -Int(floor(log10(step))))
        let v = abs(value) < step * 1e-6 ? 0 : value
        return String(format: "%.\(decimals)f", v)
    }
}

/// Numbers in SVG attributes: two decimals is a hundredth of a pixel, more than enough.
func svgNumber(_ v: Double) -> String { String(format: "%.2f", v) }
