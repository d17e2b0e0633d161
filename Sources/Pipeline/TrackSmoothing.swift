import Foundation

/// Smoothing settings for a whole latent track: W+ codes per layer (coarse layers may be steadier than
/// fine ones), cameras, and alignment quads.
public struct TrackSmoothing: Sendable, Equatable {
    /// One filter for every layer, or one per layer (count == numWs).
    public var codes: [TemporalFilter]
    public var cameras: TemporalFilter
    public var quads: TemporalFilter

    public init(codes: [TemporalFilter] = [.gaussian(sigma: 1.5)], cameras: TemporalFilter = .gaussian(sigma: 2),
                quads: TemporalFilter = .none) {
        self.codes = codes; self.cameras = cameras; self.quads = quads
    }

    public static let off = TrackSmoothing(codes: [.none], cameras: .none, quads: .none)

    /// Jitter before and after, for the run report.
    public struct Report: Sendable {
        public var codeJitterBefore: Double
        public var codeJitterAfter: Double
        public var cameraJitterBefore: Double
        public var cameraJitterAfter: Double
    }

    public func apply(to track: inout LatentTrack) -> Report {
        let n = track.count, rate = track.source.frameRate.value
        let codesBefore = meanFrameToFrameDistance(track.codes, frames: n, dim: track.codeSize)
        let camsBefore = meanFrameToFrameDistance(track.cameras, frames: n, dim: 25)
        var codes = track.codes
        if codes.count > 0 {
            for layer in 0..<track.numWs {
                let filter = self.codes.count == track.numWs ? self.codes[layer] : (self.codes.first ?? .none)
                let cols = (layer * track.wDim)..<((layer + 1) * track.wDim)
                codes = filter.apply(codes, frames: n, dim: track.codeSize, rate: rate, columns: cols)
            }
            track.replaceCodes(codes)
        }
        if n > 0 {
            track.replaceCameras(smoothCameras(track.cameras, frames: n, filter: cameras, rate: rate))
            track.replaceQuads(quads.apply(track.quads, frames: n, dim: 8, rate: rate))
        }
        return Report(codeJitterBefore: codesBefore,
                      codeJitterAfter: meanFrameToFrameDistance(track.codes, frames: n, dim: track.codeSize),
                      cameraJitterBefore: camsBefore,
                      cameraJitterAfter: meanFrameToFrameDistance(track.cameras, frames: n, dim: 25))
    }
}

/// Smooths cam2world matrices entry by entry, then makes each rotation orthonormal again (Gram–Schmidt
/// on the columns: a smoothed mix of nearby rotations is close to, but not exactly, a rotation).
/// Intrinsics (the last 9 numbers) are left alone.
public func smoothCameras(_ cams: [Float], frames n: Int, filter: TemporalFilter, rate: Double) -> [Float] {
    guard filter != .none else { return cams }
    var out = filter.apply(cams, frames: n, dim: 25, rate: rate, columns: 0..<16)
    for t in 0..<n {
        let b = t * 25
        func col(_ j: Int) -> SIMD3<Double> { SIMD3(Double(out[b + j]), Double(out[b + 4 + j]), Double(out[b + 8 + j])) }
        var x = col(0), y = col(1)
        x /= (x * x).sum().squareRoot()
        y -= (y * x).sum() * x
        y /= (y * y).sum().squareRoot()
        let z = SIMD3(x.y * y.z - x.z * y.y, x.z * y.x - x.x * y.z, x.x * y.y - x.y * y.x)
        for (j, v) in [x, y, z].enumerated() {
            out[b + j] = Float(v.x); out[b + 4 + j] = Float(v.y); out[b + 8 + j] = Float(v.z)
        }
    }
    return out
}
