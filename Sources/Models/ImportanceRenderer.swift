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

    /// OpProfile names of the two halves of "render sample+decode", timed per block on each worker (so their
    /// sum is thread time, about workers × the wall time).
    static let lookupOp = "render lookup (all threads)", decoderOp = "render decoder (all threads)"

    /// Bytes the tri-plane lookups read for `rays` rays: 3 planes × 4 bilinear taps × the channels per sample
    /// point (coarse and importance), at the width the planes are stored in.
    func lookupBytes(rays: Int) -> Double {
        Double(rays * (options.depthResolution + options.depthResolutionImportance) * 12 * decoder.inFeatures)
            * (precision == .bf16 ? 2 : 4)
    }

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

    /// Rays of a `width`-wide raster image taken column by column: ray i of the order is the raster ray at
    /// row i % height, column i / height. Two rays one row apart read the XZ and ZX planes at nearly the same
    /// texels along their whole depth (the planes' rows run along z), so taking them one after the other reads
    /// those lines from cache; in raster order the ray after a ray lies 2 texels over, on lines of its own, and
    /// the ray that shares them comes a whole image row (about 6 MB of taps) later. Nil: keep the order given.
    static func columnOrder(rays m: Int, width: Int?) -> [Int]? {
        guard let width, width > 1, m % width == 0, m / width > 1 else { return nil }
        let height = m / width
        return (0..<m).map { i in (i % height) * width + i / height }
    }

    /// planes [3·C, R, R]; origins/directions [M, 3] of a raster image `imageWidth` rays wide → features
    /// [M, out] and depths [M], in the rays' order. The order rays are taken in changes only the rounding of the
    /// decoder's library products (their sums' order depends on a point's place in its block), below 1e-6.
    func render(planes: Tensor, origins: [Float], directions: [Float], imageWidth: Int? = nil) -> (features: [Float], depth: [Float]) {
        guard let order = Self.columnOrder(rays: origins.count / 3, width: imageWidth) else {
            return renderInOrder(planes: planes, origins: origins, directions: directions)
        }
        var o = [Float](repeating: 0, count: origins.count), d = o
        for (i, r) in order.enumerated() {
            for a in 0..<3 { o[3 * i + a] = origins[3 * r + a]; d[3 * i + a] = directions[3 * r + a] }
        }
        let (f, z) = renderInOrder(planes: planes, origins: o, directions: d)
        let out = decoder.outFeatures
        var features = [Float](repeating: 0, count: f.count), depth = z
        for (i, r) in order.enumerated() {
            depth[r] = z[i]
            for ch in 0..<out { features[r * out + ch] = f[i * out + ch] }
        }
        return (features, depth)
    }

    private func renderInOrder(planes: Tensor, origins: [Float], directions: [Float]) -> (features: [Float], depth: [Float]) {
        let c = planes.shape[0] / 3, res = planes.shape[1]
        precondition(c == decoder.inFeatures, "planes have \(c) channels per plane, decoder expects \(decoder.inFeatures)")
        let m = origins.count / 3
        let out = decoder.outFeatures
        let d = options.depthResolution, ni = options.depthResolutionImportance
        let total = d + ni
        // Channels-last planes [3][R][R][C] so each bilinear tap reads C contiguous floats, on huge pages
        // (HugePageBuffer); with bf16 stored as bfloat16 (the float copy let go at once).
        func channelsLast(into dst: UnsafeMutablePointer<Float>) {
            planes.data.withUnsafeBufferPointer { src in
                for p in 0..<3 {
                    GridSample.channelsLast(src.baseAddress! + p * c * res * res, channels: c, height: res, width: res,
                                            into: dst + p * c * res * res)
                }
            }
        }
        let planesCL: HugePageBuffer<Float>?, planes16: HugePageBuffer<UInt16>?
        if precision == .bf16 {
            var floats = [Float](repeating: 0, count: planes.count)
            floats.withUnsafeMutableBufferPointer { channelsLast(into: $0.baseAddress!) }
            let bits = HugePageBuffer<UInt16>(count: planes.count)
            Precision.bfloat16Bits(floats, into: bits.pointer)
            planesCL = nil; planes16 = bits
        } else {
            let table = HugePageBuffer<Float>(count: planes.count)
            channelsLast(into: table.pointer)
            planesCL = table; planes16 = nil
        }
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

        origins.withUnsafeBufferPointer { op in
        directions.withUnsafeBufferPointer { dp in
        coarse.withUnsafeBufferPointer { cz in
        u.withUnsafeBufferPointer { up in
        features.withUnsafeMutableBufferPointer { fp in
        depth.withUnsafeMutableBufferPointer { zp in
            let planeBase = planesCL?.pointer, planeBase16 = planes16?.pointer, o = op.baseAddress!, dir = dp.baseAddress!
            // Samples and decodes the points of `rays` 0..<count into rows of `output`.
            let block = pointBlock, hiddenWidth = decoder.hidden, axes = options.planeAxes
            func evaluate(_ count: Int, into output: UnsafeMutablePointer<Float>, along rays: GridSample.RayPoints) {
                Parallel.forChunks((count + block - 1) / block) { s, e in
                    let feat = UnsafeMutablePointer<Float>.allocate(capacity: block * c)
                    let hidden = UnsafeMutablePointer<Float>.allocate(capacity: block * hiddenWidth)
                    defer { feat.deallocate(); hidden.deallocate() }
                    for b in s..<e {
                        let p0 = b * block, n = min(block, count - p0)
                        OpProfile.measure(Self.lookupOp) {
                        if let planeBase16 {
                            GridSample.triplane(planeBase16, resolution: res, channels: c, axes: axes, along: rays, from: p0, count: n, into: feat)
                        } else {
                            GridSample.triplane(planeBase!, resolution: res, channels: c, axes: axes, along: rays, from: p0, count: n, into: feat)
                        }
                        }
                        OpProfile.measure(Self.decoderOp) {
                        decoder.forward(feat, count: n, hiddenBuffer: hidden, output: output + p0 * (out + 1))
                        }
                    }
                }
            }
            var r0 = 0
            while r0 < m {
                let nr = min(chunkRays, m - r0)
                // Coarse pass.
                OpProfile.measure("render sample+decode") {
                    evaluate(nr * d, into: coarseOut, along: GridSample.RayPoints(
                        origins: o + 3 * r0, directions: dir + 3 * r0, scale: scale, depths: cz.baseAddress!, depthStride: 0, perRay: d))
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
                    evaluate(nr * ni, into: fineOut, along: GridSample.RayPoints(
                        origins: o + 3 * r0, directions: dir + 3 * r0, scale: scale, depths: fineDepths, depthStride: ni, perRay: ni))
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
        }}}}}}
        withExtendedLifetime((planesCL, planes16)) {}
        return (features, depth)
    }
}
