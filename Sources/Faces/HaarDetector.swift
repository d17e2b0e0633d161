import Foundation

/// Multi-scale sliding-window detection with a `HaarCascade`, reproducing OpenCV 4's
/// `CascadeClassifier::detectMultiScale` on the CPU path (objdetect/src/cascadedetect.cpp):
///
/// - scales 1, f, f², … while the scaled window fits the image and `maxSize`; scales under `minSize`
///   are skipped;
/// - for each scale the image is shrunk to `round(size / scale)` with bilinear resampling and its
///   integral and squared-integral images are taken (the window itself stays at the trained size);
/// - windows step by 2 pixels below scale 2 and by 1 from there on, with one extra step after a window
///   rejected by the very first stage;
/// - each window is normalised by the standard deviation over its inner (w−2)×(h−2) area, and windows
///   whose deviation is tiny are rejected outright;
/// - stages sum their trees' leaves and reject below their threshold;
/// - hits are grouped with `RectangleGrouping` (eps 0.2, `minNeighbors`) and clipped to the image.
public struct HaarDetector: Sendable {
    public struct Parameters: Sendable, Equatable {
        /// Ratio between successive scales (OpenCV's default 1.1).
        public var scaleFactor: Double = 1.1
        /// Raw hits a group needs (strictly more than this number) to be reported (OpenCV's default 3).
        public var minNeighbors: Int = 3
        /// Smallest / largest reported window; zero means no bound (as OpenCV's empty `Size()`).
        public var minSize: (width: Int, height: Int) = (0, 0)
        public var maxSize: (width: Int, height: Int) = (0, 0)

        public init(scaleFactor: Double = 1.1, minNeighbors: Int = 3,
                    minSize: (width: Int, height: Int) = (0, 0), maxSize: (width: Int, height: Int) = (0, 0)) {
            self.scaleFactor = scaleFactor
            self.minNeighbors = minNeighbors
            self.minSize = minSize
            self.maxSize = maxSize
        }

        public static func == (a: Parameters, b: Parameters) -> Bool {
            a.scaleFactor == b.scaleFactor && a.minNeighbors == b.minNeighbors && a.minSize == b.minSize
                && a.maxSize == b.maxSize
        }
    }

    public let cascade: HaarCascade
    // Flattened stumps for the common case (OpenCV's `Data::stumps`).
    private let stumpFeature: [Int32]
    private let stumpThreshold: [Float]
    private let stumpLeft: [Float]
    private let stumpRight: [Float]

    public init(cascade: HaarCascade) {
        self.cascade = cascade
        if cascade.isStumpBased {
            stumpFeature = cascade.nodes.map { Int32($0.featureIndex) }
            stumpThreshold = cascade.nodes.map { $0.threshold }
            stumpLeft = cascade.treeLeafOffset.map { cascade.leaves[$0] }
            stumpRight = cascade.treeLeafOffset.map { cascade.leaves[$0 + 1] }
        } else {
            stumpFeature = []; stumpThreshold = []; stumpLeft = []; stumpRight = []
        }
    }

    public init(contentsOf path: String) throws {
        self.init(cascade: try HaarCascade(contentsOf: path))
    }

    /// `cvRound` on a double: round half to even, as `lrint` does in the default rounding mode.
    @inline(__always) static func cvRound(_ v: Double) -> Int { Int(v.rounded(.toNearestOrEven)) }
    @inline(__always) static func cvRound(_ v: Float) -> Int { Int(v.rounded(.toNearestOrEven)) }

    /// The scales `detectMultiScale` would visit for an image of this size.
    public func scales(imageWidth: Int, imageHeight: Int, parameters p: Parameters) -> [Float] {
        precondition(p.scaleFactor > 1, "scaleFactor must exceed 1")
        let maxW = p.maxSize.width > 0 && p.maxSize.height > 0 ? p.maxSize.width : imageWidth
        let maxH = p.maxSize.width > 0 && p.maxSize.height > 0 ? p.maxSize.height : imageHeight
        var out: [Float] = []
        var factor = 1.0
        while true {
            let ww = Self.cvRound(Double(cascade.windowWidth) * factor)
            let wh = Self.cvRound(Double(cascade.windowHeight) * factor)
            if ww > maxW || wh > maxH || ww > imageWidth || wh > imageHeight { break }
            if !(ww < p.minSize.width || wh < p.minSize.height) { out.append(Float(factor)) }
            factor *= p.scaleFactor
        }
        return out
    }

    /// Grouped detections, clipped to the image, as `detectMultiScale` returns them.
    public func detect(_ image: GrayImage, parameters: Parameters = Parameters()) -> [FaceRect] {
        detectWithNeighbours(image, parameters: parameters).map { $0.rect }
    }

    /// Grouped detections with their neighbour counts (a confidence proxy, OpenCV's `numDetections`).
    public func detectWithNeighbours(_ image: GrayImage, parameters: Parameters = Parameters()) -> [(rect: FaceRect, neighbours: Int)] {
        let raw = candidates(image, parameters: parameters)
        let grouped = RectangleGrouping.group(raw, threshold: parameters.minNeighbors, eps: 0.2)
        let frame = FaceRect(x: 0, y: 0, width: image.width, height: image.height)
        return grouped.compactMap { g in
            let r = frame.intersection(g.rect)
            return r.area > 0 ? (r, g.neighbours) : nil
        }
    }

    /// Raw window hits before grouping, in scale, row, column order.
    public func candidates(_ image: GrayImage, parameters: Parameters = Parameters()) -> [FaceRect] {
        let scales = scales(imageWidth: image.width, imageHeight: image.height, parameters: parameters)
        if scales.isEmpty { return [] }
        let perScale = ResultSlots<[FaceRect]>(count: scales.count, empty: [])
        // Scales are independent; spread them over the cores. Results are collected per scale so the
        // output order does not depend on scheduling.
        DispatchQueue.concurrentPerform(iterations: scales.count) { k in
            perScale.set(k, scan(image, scale: scales[k]))
        }
        return perScale.values.flatMap { $0 }
    }

    /// One pyramid level: resize, integrate, slide.
    func scan(_ image: GrayImage, scale sc: Float) -> [FaceRect] {
        let winW = cascade.windowWidth, winH = cascade.windowHeight
        let sw = Self.cvRound(Float(image.width) / sc), sh = Self.cvRound(Float(image.height) / sc)
        let yStep = sc >= 2 ? 1 : 2
        let sziW = sw + 1, sziH = sh + 1
        let workW = max(sziW - winW, 0), workH = max(sziH - winH, 0)
        if workW == 0 || workH == 0 { return [] }
        let small = image.resizedBilinear(width: sw, height: sh)
        // Integral images with a zero first row and column; the squared one wraps modulo 2^32 exactly
        // like OpenCV's CV_32S buffer, and only differences (which fit) are ever used.
        let stride = sziW
        var sum = [Int32](repeating: 0, count: sziW * sziH)
        var sqsum = [Int32](repeating: 0, count: sziW * sziH)
        small.pixels.withUnsafeBufferPointer { src in
            sum.withUnsafeMutableBufferPointer { s in
                sqsum.withUnsafeMutableBufferPointer { q in
                    for y in 0..<sh {
                        var rs: Int32 = 0, rq: Int32 = 0
                        let o = (y + 1) * stride, po = y * stride
                        for x in 0..<sw {
                            let v = Int32(src[y * sw + x])
                            rs &+= v
                            rq &+= v &* v
                            s[o + x + 1] = s[po + x + 1] &+ rs
                            q[o + x + 1] = q[po + x + 1] &+ rq
                        }
                    }
                }
            }
        }
        // Feature offsets for this stride (OpenCV's CV_SUM_OFS: top-left, top-right, bottom-left,
        // bottom-right corners of each rectangle in the integral image).
        let nf = cascade.features.count
        var ofs = [Int32](repeating: 0, count: nf * 12)
        var wts = [Float](repeating: 0, count: nf * 3)
        for (fi, f) in cascade.features.enumerated() {
            for (k, r) in f.rects.enumerated() {
                ofs[fi * 12 + 4 * k] = Int32(r.y * stride + r.x)
                ofs[fi * 12 + 4 * k + 1] = Int32(r.y * stride + r.x + r.width)
                ofs[fi * 12 + 4 * k + 2] = Int32((r.y + r.height) * stride + r.x)
                ofs[fi * 12 + 4 * k + 3] = Int32((r.y + r.height) * stride + r.x + r.width)
                wts[fi * 3 + k] = r.weight
            }
        }
        // The normalisation rectangle: the window less a one-pixel border.
        let n0 = 1 * stride + 1, n1 = 1 * stride + (winW - 1)
        let n2 = (winH - 1) * stride + 1, n3 = (winH - 1) * stride + (winW - 1)
        let area = Double((winW - 2) * (winH - 2))
        let winSizeW = Self.cvRound(Float(winW) * sc), winSizeH = Self.cvRound(Float(winH) * sc)

        var hits: [FaceRect] = []
        let stages = cascade.stages
        sum.withUnsafeBufferPointer { S in
            sqsum.withUnsafeBufferPointer { Q in
                ofs.withUnsafeBufferPointer { O in
                    wts.withUnsafeBufferPointer { W in
                        @inline(__always) func feature(_ fi: Int, _ p: Int, _ vnf: Float) -> Float {
                            let o = fi * 12
                            @inline(__always) func rs(_ k: Int) -> Float {
                                let a = Int(O[o + 4 * k]) + p, b = Int(O[o + 4 * k + 1]) + p
                                let c = Int(O[o + 4 * k + 2]) + p, d = Int(O[o + 4 * k + 3]) + p
                                return Float(S[a] &- S[b] &- S[c] &+ S[d])
                            }
                            var ret = W[fi * 3] * rs(0) + W[fi * 3 + 1] * rs(1)
                            let w2 = W[fi * 3 + 2]
                            if w2 != 0 { ret += w2 * rs(2) }
                            return ret * vnf
                        }
                        var y = 0
                        while y < workH {
                            var x = 0
                            while x < workW {
                                let p = y * stride + x
                                // setWindow: variance normalisation over the inner rectangle.
                                let valsum = S[p + n0] &- S[p + n1] &- S[p + n2] &+ S[p + n3]
                                let valsq = UInt32(bitPattern: Q[p + n0] &- Q[p + n1] &- Q[p + n2] &+ Q[p + n3])
                                var nfv = area * Double(valsq) - Double(valsum) * Double(valsum)
                                var result: Int
                                if nfv > 0 {
                                    nfv = nfv.squareRoot()
                                    let vnf = Float(1.0 / nfv)
                                    if area * Double(vnf) < 1e-1 {
                                        result = self.evaluate(p, vnf, stages, feature)
                                    } else {
                                        result = -1
                                    }
                                } else {
                                    result = -1
                                }
                                if result > 0 {
                                    hits.append(FaceRect(x: Self.cvRound(Float(x) * sc), y: Self.cvRound(Float(y) * sc),
                                                         width: winSizeW, height: winSizeH))
                                }
                                if result == 0 { x += yStep }
                                x += yStep
                            }
                            y += yStep
                        }
                    }
                }
            }
        }
        return hits
    }

    /// Runs the stages on one window: 1 when all pass, otherwise −(index of the rejecting stage)
    /// (so 0 means "rejected by the first stage"), as OpenCV's predictOrdered(Stump) return.
    @inline(__always)
    private func evaluate(_ p: Int, _ vnf: Float, _ stages: [HaarCascade.Stage],
                          _ feature: (Int, Int, Float) -> Float) -> Int {
        if cascade.isStumpBased {
            return stumpFeature.withUnsafeBufferPointer { F in
                stumpThreshold.withUnsafeBufferPointer { T in
                    stumpLeft.withUnsafeBufferPointer { L in
                        stumpRight.withUnsafeBufferPointer { R in
                            for (si, stage) in stages.enumerated() {
                                var acc = 0.0
                                for t in stage.firstTree..<(stage.firstTree + stage.treeCount) {
                                    let v = Double(feature(Int(F[t]), p, vnf))
                                    acc += v < Double(T[t]) ? Double(L[t]) : Double(R[t])
                                }
                                if acc < Double(stage.threshold) { return -si }
                            }
                            return 1
                        }
                    }
                }
            }
        }
        let nodes = cascade.nodes, leaves = cascade.leaves
        for (si, stage) in stages.enumerated() {
            var acc = 0.0
            for t in stage.firstTree..<(stage.firstTree + stage.treeCount) {
                let nodeBase = cascade.treeNodeOffset[t], leafBase = cascade.treeLeafOffset[t]
                var idx = 0
                repeat {
                    let node = nodes[nodeBase + idx]
                    let v = Double(feature(node.featureIndex, p, vnf))
                    idx = v < Double(node.threshold) ? node.left : node.right
                } while idx > 0
                acc += Double(leaves[leafBase - idx])
            }
            if acc < Double(stage.threshold) { return -si }
        }
        return 1
    }
}
