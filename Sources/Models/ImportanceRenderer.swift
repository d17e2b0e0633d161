// Port of ImportanceRenderer from NVlabs/eg3d training/volumetric_rendering/renderer.py, rendering
// deterministically: coarse depths at mid-bin (linspace(start, end, D) + ½·(end − start)/(D − 1)),
// importance samples by inverse-CDF with det = true (u = linspace(0, 1, N)). Features are sampled from
// the planes XY, XZ, ZX (generate_planes' axes as released) or XY, XZ, ZY (options.planeAxes, the corrected
// axes of NVlabs/eg3d#67) after scaling points by 2/box_warp.
import Tensors

final class ImportanceRenderer: @unchecked Sendable {
    let options: RenderingOptions
    let decoder: OSGDecoder
    /// Rays per chunk; bounds the working memory (~50 MB at 2048).
    let chunkRays = 2048
    /// Points sampled and decoded together on one worker, so features and hidden units stay in cache.
    let pointBlock = 128

    /// bf16 keeps the sampled planes in bfloat16 (half the bytes per tap; the lookup is memory-bound);
    /// the interpolation, the decoder and the ray marching stay float32.
    let precision: Precision

    init(decoder: OSGDecoder, options: RenderingOptions, precision: Precision = .fp32) {
        self.decoder = decoder
        self.options = options
        self.precision = precision
    }

    /// torch.linspace(start, end, n) in float32 (the halves are computed from either end).
    static func linspace(_ start: Float, _ end: Float, _ n: Int) -> [Float] {
        guard n > 1 else { return [start] }
        let step = (end - start) / Float(n - 1)
        return (0..<n).map { i in i < n / 2 ? start + step * Float(i) : end - step * Float(n - 1 - i) }
    }

    /// planes [3·C, R, R]; origins/directions [M, 3] → features [M, out] and depths [M].
    func render(planes: Tensor, origins: [Float], directions: [Float]) -> (features: [Float], depth: [Float]) {
        let c = planes.shape[0] / 3, res = planes.shape[1]
        precondition(c == decoder.inFeatures, "planes have \(c) channels per plane, decoder expects \(decoder.inFeatures)")
        let m = origins.count / 3
        let out = decoder.outFeatures
        let d = options.depthResolution, ni = options.depthResolutionImportance
        let total = d + ni
        // Channels-last planes [3][R][R][C] so each bilinear tap reads C contiguous floats.
        var planesCL = [Float](repeating: 0, count: planes.count)
        planes.data.withUnsafeBufferPointer { src in
            planesCL.withUnsafeMutableBufferPointer { dst in
                for p in 0..<3 {
                    GridSample.channelsLast(src.baseAddress! + p * c * res * res, channels: c, height: res, width: res,
                                            into: dst.baseAddress! + p * c * res * res)
                }
            }
        }
        // bf16: the planes as bfloat16 for the lookup, and the float copy let go.
        let planes16: [UInt16] = precision == .bf16 ? Precision.bfloat16Bits(planesCL) : []
        if precision == .bf16 { planesCL = [] }
        let delta = (options.rayEnd - options.rayStart) / Float(d - 1)
        let coarse = Self.linspace(options.rayStart, options.rayEnd, d).map { $0 + 0.5 * delta }
        let u = Self.linspace(0, 1, ni)
        var features = [Float](repeating: 0, count: m * out)
        var depth = [Float](repeating: 0, count: m)
        var minDepth = Float.infinity, maxDepth = -Float.infinity

        let coarseOut = UnsafeMutablePointer<Float>.allocate(capacity: chunkRays * d * (out + 1))
        let fineOut = UnsafeMutablePointer<Float>.allocate(capacity: chunkRays * ni * (out + 1))
        let fineDepths = UnsafeMutablePointer<Float>.allocate(capacity: chunkRays * ni)
        let coarseWeights = UnsafeMutablePointer<Float>.allocate(capacity: chunkRays * (d - 1))
        defer {
            coarseOut.deallocate(); fineOut.deallocate()
            fineDepths.deallocate(); coarseWeights.deallocate()
        }
        let scale = 2 / options.boxWarp
        let whiteBack = options.whiteBack

        planesCL.withUnsafeBufferPointer { pl in
        planes16.withUnsafeBufferPointer { pl16 in
        origins.withUnsafeBufferPointer { op in
        directions.withUnsafeBufferPointer { dp in
        coarse.withUnsafeBufferPointer { cz in
        u.withUnsafeBufferPointer { up in
        features.withUnsafeMutableBufferPointer { fp in
        depth.withUnsafeMutableBufferPointer { zp in
            let planeBase = pl.baseAddress, planeBase16 = precision == .bf16 ? pl16.baseAddress : nil, o = op.baseAddress!, dir = dp.baseAddress!
            // Samples and decodes points 0..<count (ray and depth from `point`) into rows of `output`.
            let block = pointBlock, hiddenWidth = decoder.hidden, axes = options.planeAxes
            func evaluate(_ count: Int, into output: UnsafeMutablePointer<Float>, _ point: (Int) -> (Int, Float)) {
                Parallel.forChunks((count + block - 1) / block) { s, e in
                    let feat = UnsafeMutablePointer<Float>.allocate(capacity: block * c)
                    let hidden = UnsafeMutablePointer<Float>.allocate(capacity: block * hiddenWidth)
                    let xyz = UnsafeMutablePointer<Float>.allocate(capacity: block * 3)
                    defer { feat.deallocate(); hidden.deallocate(); xyz.deallocate() }
                    for b in s..<e {
                        let p0 = b * block, n = min(block, count - p0)
                        // Points o + z·d in the planes' normalised coordinates.
                        for i in 0..<n {
                            let (r, z) = point(p0 + i)
                            for a in 0..<3 { xyz[3 * i + a] = (o[3 * r + a] + z * dir[3 * r + a]) * scale }
                        }
                        if let planeBase16 {
                            GridSample.triplane(planeBase16, resolution: res, channels: c, axes: axes, points: xyz, count: n, into: feat)
                        } else {
                            GridSample.triplane(planeBase!, resolution: res, channels: c, axes: axes, points: xyz, count: n, into: feat)
                        }
                        decoder.forward(feat, count: n, hiddenBuffer: hidden, output: output + p0 * (out + 1))
                    }
                }
            }
            var r0 = 0
            while r0 < m {
                let nr = min(chunkRays, m - r0)
                // Coarse pass.
                OpProfile.measure("render sample+decode") {
                    evaluate(nr * d, into: coarseOut) { p in (r0 + p / d, cz[p % d]) }
                }
                // Coarse weights → importance depths.
                OpProfile.measure("render pdf") {
                Parallel.forChunks(nr, grain: 16) { s, e in
                    let smooth = UnsafeMutablePointer<Float>.allocate(capacity: d)
                    let mids = UnsafeMutablePointer<Float>.allocate(capacity: d)
                    let cdf = UnsafeMutablePointer<Float>.allocate(capacity: d)
                    defer { smooth.deallocate(); mids.deallocate(); cdf.deallocate() }
                    for k in 0..<(d - 1) { mids[k] = 0.5 * (cz[k] + cz[k + 1]) }
                    for r in s..<e {
                        let w = coarseWeights + r * (d - 1)
                        _ = MipRayMarcher.march(colors: nil, colorStride: 0, channels: 0,
                                                densities: coarseOut + r * d * (out + 1), densityStride: out + 1,
                                                depths: cz.baseAddress!, samples: d, whiteBack: whiteBack,
                                                weights: w, rgb: nil)
                        RayOps.maxThenAvgPool2(w, count: d - 1, into: smooth)
                        for k in 0..<(d - 1) { smooth[k] += 0.01 }
                        RayOps.samplePDF(bins: mids, weights: smooth + 1, count: d - 3, u: up.baseAddress!, samples: ni,
                                         scratch: cdf, into: fineDepths + r * ni)
                    }
                }
                }
                // Fine pass.
                OpProfile.measure("render sample+decode") {
                    evaluate(nr * ni, into: fineOut) { p in (r0 + p / ni, fineDepths[p]) }
                }
                // Merge the two sorted depth lists and march all samples.
                let (lo, hi) = OpProfile.measure("render march") { Parallel.reduceChunks(nr) { s, e -> (Float, Float) in
                    let order = UnsafeMutablePointer<Float>.allocate(capacity: total * (out + 1))
                    let zs = UnsafeMutablePointer<Float>.allocate(capacity: total)
                    let w = UnsafeMutablePointer<Float>.allocate(capacity: total)
                    defer { order.deallocate(); zs.deallocate(); w.deallocate() }
                    var lo = Float.infinity, hi = -Float.infinity
                    for r in s..<e {
                        let fz = fineDepths + r * ni
                        let cRows = coarseOut + r * d * (out + 1), fRows = fineOut + r * ni * (out + 1)
                        var a = 0, b = 0
                        for k in 0..<total {
                            let takeCoarse = b >= ni || (a < d && cz[a] <= fz[b])
                            let src: UnsafeMutablePointer<Float>
                            if takeCoarse { zs[k] = cz[a]; src = cRows + a * (out + 1); a += 1 }
                            else { zs[k] = fz[b]; src = fRows + b * (out + 1); b += 1 }
                            (order + k * (out + 1)).update(from: src, count: out + 1)
                            lo = min(lo, zs[k]); hi = max(hi, zs[k])
                        }
                        zp[r0 + r] = MipRayMarcher.march(colors: order + 1, colorStride: out + 1, channels: out,
                                                         densities: order, densityStride: out + 1, depths: zs, samples: total,
                                                         whiteBack: whiteBack, weights: w, rgb: fp.baseAddress! + (r0 + r) * out)
                    }
                    return (lo, hi)
                } combine: { (min($0.0, $1.0), max($0.1, $1.1)) } }
                minDepth = min(minDepth, lo); maxDepth = max(maxDepth, hi)
                r0 += nr
            }
            // torch.clamp(depth, min(all depths), max(all depths)) over the whole batch.
            for r in 0..<m { zp[r] = min(max(zp[r], minDepth), maxDepth) }
        }}}}}}}}
        return (features, depth)
    }
}
