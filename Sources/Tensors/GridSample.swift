// Bilinear sampling like torch.nn.functional.grid_sample(mode='bilinear', padding_mode='zeros',
// align_corners=False), on a channels-last plane [H, W, C] so each tap reads C contiguous floats.
import CKernels

public enum GridSample {
    /// Converts planar [C, H, W] to channels-last [H, W, C].
    public static func channelsLast(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                                    into out: UnsafeMutablePointer<Float>) {
        let hw = height * width
        Parallel.forChunks(height) { s, e in
            for y in s..<e {
                for xx in 0..<width {
                    let d = out + (y * width + xx) * channels
                    let p = y * width + xx
                    for c in 0..<channels { d[c] = x[c * hw + p] }
                }
            }
        }
    }

    /// The mean of the bilinear samples of three channels-last planes [3][R][R][C] at points `xyz` [n, 3]
    /// (normalised coordinates), reading the planes at (x, y), (x, z) and (z, x): EG3D's tri-plane lookup
    /// (sample_from_planes, then the mean over planes that the OSG decoder takes). out: [n, C].
    public static func triplane(_ planes: UnsafePointer<Float>, resolution: Int, channels: Int,
                                points xyz: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>) {
        avz_triplane_sample(planes, resolution, channels, xyz, n, out)
    }

    /// Adds `scale` × the bilinear sample at normalised (gx, gy) ∈ [−1, 1]² into `acc[0..<C]`.
    /// gx indexes width, gy height; out-of-range taps read zero.
    @inlinable @inline(__always)
    public static func accumulate(
        plane: UnsafePointer<Float>, height: Int, width: Int, channels: Int,
        gx: Float, gy: Float, scale: Float, into acc: UnsafeMutablePointer<Float>
    ) {
        let ix = ((gx + 1) * Float(width) - 1) / 2
        let iy = ((gy + 1) * Float(height) - 1) / 2
        let fx = ix.rounded(.down), fy = iy.rounded(.down)
        guard fx.isFinite, fy.isFinite else { return }
        let x0 = Int(fx), y0 = Int(fy)
        let x1 = x0 + 1, y1 = y0 + 1
        let wx1 = ix - fx, wx0 = Float(x1) - ix
        let wy1 = iy - fy, wy0 = Float(y1) - iy
        @inline(__always) func tap(_ x: Int, _ y: Int, _ w: Float) {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            let p = plane + (y * width + x) * channels
            let ws = w * scale
            for c in 0..<channels { acc[c] += p[c] * ws }
        }
        tap(x0, y0, wx0 * wy0)
        tap(x1, y0, wx1 * wy0)
        tap(x0, y1, wx0 * wy1)
        tap(x1, y1, wx1 * wy1)
    }
}
