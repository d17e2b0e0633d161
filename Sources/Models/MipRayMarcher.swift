// Port of MipRayMarcher2 from NVlabs/eg3d training/volumetric_rendering/ray_marcher.py, for one ray:
// mid-point colours/densities/depths, density softplus(σ − 1), α = 1 − exp(−σδ), transmittance as the
// cumulative product of (1 − α + 1e−10), colour ·2 − 1. Depth is clamped later over the whole batch.
import Foundation
import Tensors

enum MipRayMarcher {
    /// samples S along a ray: colours [S, C] with row stride `colorStride`, densities [S], depths [S]
    /// (sorted). Writes weights [S − 1]; when `rgb` is given writes the composite colour [C] there.
    /// Returns the weighted depth (∞ when all weights vanish), not yet clamped.
    @inline(__always)
    static func march(
        colors: UnsafePointer<Float>?, colorStride: Int, channels: Int,
        densities: UnsafePointer<Float>, densityStride: Int, depths: UnsafePointer<Float>, samples s: Int,
        whiteBack: Bool, weights: UnsafeMutablePointer<Float>, rgb: UnsafeMutablePointer<Float>?
    ) -> Float {
        var transmittance: Float = 1
        var total: Float = 0
        var depthSum: Float = 0
        for k in 0..<(s - 1) {
            let delta = depths[k + 1] - depths[k]
            let sigma = Pointwise.softplus((densities[k * densityStride] + densities[(k + 1) * densityStride]) / 2 - 1)
            let alpha = 1 - expf(-(sigma * delta))
            let w = alpha * transmittance
            transmittance *= (1 - alpha) + 1e-10
            weights[k] = w
            total += w
            depthSum += w * ((depths[k] + depths[k + 1]) / 2)
        }
        if let rgb, let colors {
            for c in 0..<channels { rgb[c] = 0 }
            for k in 0..<(s - 1) {
                let w = weights[k]
                let a = colors + k * colorStride, b = colors + (k + 1) * colorStride
                for c in 0..<channels { rgb[c] += w * ((a[c] + b[c]) / 2) }
            }
            for c in 0..<channels {
                var v = rgb[c]
                if whiteBack { v = v + 1 - total }
                rgb[c] = v * 2 - 1
            }
        }
        let depth = depthSum / total
        return depth.isNaN ? .infinity : depth
    }
}
