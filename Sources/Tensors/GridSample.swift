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
    /// (normalised coordinates), reading the planes at (x, y), (x, z) and (z, x), or (z, y) with the corrected
    /// axes: EG3D's tri-plane lookup (sample_from_planes, then the mean over planes that the OSG decoder
    /// takes). out: [n, C].
    public static func triplane(_ planes: UnsafePointer<Float>, resolution: Int, channels: Int, axes: TriplaneAxes = .original,
                                points xyz: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>) {
        avz_triplane_sample(planes, resolution, channels, xyz, n, axes == .corrected ? 1 : 0, out)
    }

    /// `triplane` on planes stored as bfloat16 bit patterns (Precision.bfloat16Bits of the float planes).
    public static func triplane(_ planes: UnsafePointer<UInt16>, resolution: Int, channels: Int, axes: TriplaneAxes = .original,
                                points xyz: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>) {
        avz_triplane_sample_bf16(planes, resolution, channels, xyz, n, axes == .corrected ? 1 : 0, out)
    }

    /// Points along rays, sampled as `triplane` does: point p0 + i lies on ray r = (p0 + i) / perRay at depth
    /// depths[r · depthStride + (p0 + i) % perRay] (a stride of 0: one depth list shared by every ray), at
    /// (origin + depth · direction) · scale. Computing the points in the kernel spares a pass over them.
    public struct RayPoints {
        public let origins: UnsafePointer<Float>, directions: UnsafePointer<Float>
        public let scale: Float
        public let depths: UnsafePointer<Float>, depthStride: Int, perRay: Int
        public init(origins: UnsafePointer<Float>, directions: UnsafePointer<Float>, scale: Float,
                    depths: UnsafePointer<Float>, depthStride: Int, perRay: Int) {
            self.origins = origins; self.directions = directions; self.scale = scale
            self.depths = depths; self.depthStride = depthStride; self.perRay = perRay
        }
    }

    public static func triplane(_ planes: UnsafePointer<Float>, resolution: Int, channels: Int, axes: TriplaneAxes,
                                along rays: RayPoints, from p0: Int, count n: Int, into out: UnsafeMutablePointer<Float>) {
        avz_ray_sample(planes, resolution, channels, axes == .corrected ? 1 : 0, rays.origins, rays.directions, rays.scale,
                       rays.depths, rays.depthStride, rays.perRay, p0, n, out)
    }

    public static func triplane(_ planes: UnsafePointer<UInt16>, resolution: Int, channels: Int, axes: TriplaneAxes,
                                along rays: RayPoints, from p0: Int, count n: Int, into out: UnsafeMutablePointer<Float>) {
        avz_ray_sample_bf16(planes, resolution, channels, axes == .corrected ? 1 : 0, rays.origins, rays.directions, rays.scale,
                            rays.depths, rays.depthStride, rays.perRay, p0, n, out)
    }
}
