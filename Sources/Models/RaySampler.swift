// Port of RaySampler from NVlabs/eg3d training/volumetric_rendering/ray_sampler.py: one ray per pixel
// centre ((i + 0.5)/res), lifted with normalised intrinsics (skew supported) and an OpenCV-convention
// cam2world matrix; directions normalised.

public enum RaySampler {
    /// c: 25 numbers (cam2world 4×4 row-major, intrinsics 3×3) → origins and directions, each [res², 3],
    /// ray m = row·res + column.
    public static func rays(camera c: [Float], resolution res: Int) -> (origins: [Float], directions: [Float]) {
        precondition(c.count >= 25, "camera needs 25 numbers")
        let fx = c[16], sk = c[17], cx = c[18], fy = c[20], cy = c[21]
        let m = res * res
        var origins = [Float](repeating: 0, count: 3 * m)
        var dirs = [Float](repeating: 0, count: 3 * m)
        let step = 1 / Float(res), half = 0.5 / Float(res)
        let loc = (c[3], c[7], c[11])
        for i in 0..<res {
            let y = Float(i) * step + half
            for j in 0..<res {
                let x = Float(j) * step + half
                let xl = (x - cx + cy * sk / fy - sk * y / fy) / fx
                let yl = (y - cy) / fy
                var d = (0 as Float, 0 as Float, 0 as Float)
                d.0 = c[0] * xl + c[1] * yl + c[2] + c[3] - loc.0
                d.1 = c[4] * xl + c[5] * yl + c[6] + c[7] - loc.1
                d.2 = c[8] * xl + c[9] * yl + c[10] + c[11] - loc.2
                let norm = max((d.0 * d.0 + d.1 * d.1 + d.2 * d.2).squareRoot(), 1e-12)
                let k = 3 * (i * res + j)
                dirs[k] = d.0 / norm; dirs[k + 1] = d.1 / norm; dirs[k + 2] = d.2 / norm
                origins[k] = loc.0; origins[k + 1] = loc.1; origins[k + 2] = loc.2
            }
        }
        return (origins, dirs)
    }
}
