import Foundation
import Threads

/// Multi-scale sliding-window detection with a `HaarCascade`, reproducing OpenCV 4's
/// `CascadeClassifier::detectMultiScale` on the CPU path (objdetect/src/cascadedetect.cpp):
///
/// - scales 1, f, f², … while the scaled window fits the image and `maxSize`; scales under `minSize`
///   are skipped;
/// - for each scale the image is shrunk to `round(size / scale)` with OpenCV's bit-exact bilinear
///   resize (INTER_LINEAR_EXACT, as OpenCV 4.14 builds the pyramid) and its integral and
///   squared-integral images are taken (the window itself stays at the trained size);
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
        ThreadTeam.shared.run(scales.count) { k in
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
        // The hot loop reads through unchecked pointers. HaarCascade guarantees every rectangle lies inside
        // the window, so the furthest read is a window's bottom-right corner at the last position; checked
        // once per scale, that bounds every read below.
        precondition((workH - 1 + winH) * stride + (workW - 1 + winW) < sum.count && small.pixels.count == sw * sh,
                     "Haar scan: window positions past the integral image")
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
        // Stage boundaries as plain integers for the hot loop.
        let stageFirst = cascade.stages.map { Int32($0.firstTree) }
        let stageCount = cascade.stages.map { Int32($0.treeCount) }
        let stageThreshold = cascade.stages.map { Double($0.threshold) }
        let nodeFeature = cascade.nodes.map { Int32($0.featureIndex) }
        let nodeThreshold = cascade.nodes.map { $0.threshold }
        let nodeLeft = cascade.nodes.map { Int32($0.left) }
        let nodeRight = cascade.nodes.map { Int32($0.right) }
        let treeNode = cascade.treeNodeOffset.map { Int32($0) }
        let treeLeaf = cascade.treeLeafOffset.map { Int32($0) }
        let stumps = cascade.isStumpBased
        withPointers(sum, sqsum, ofs, wts) { S, Q, O, W in
            withPointers(stageFirst, stageCount, stageThreshold, stumpFeature) { SF, SC, STh, F in
                withPointers(stumpThreshold, stumpLeft, stumpRight, cascade.leaves) { T, L, R, LV in
                    withPointers(nodeFeature, nodeThreshold, nodeLeft, nodeRight) { NF, NT, NL, NR in
                        withPointers(treeNode, treeLeaf, [Int32](), [Int32]()) { TN, TL, _, _ in
                            let nStages = stageFirst.count
                            // One Haar feature at window offset p: Σ weight · rectangle sum, times the
                            // window's 1/(area · σ) (OpenCV's OptFeature::calc · varianceNormFactor).
                            @inline(__always) func feature(_ fi: Int, _ p: Int, _ vnf: Float) -> Float {
                                let o = O + fi * 12
                                let w = W + fi * 3
                                let s0 = S[Int(o[0]) + p] &- S[Int(o[1]) + p] &- S[Int(o[2]) + p] &+ S[Int(o[3]) + p]
                                let s1 = S[Int(o[4]) + p] &- S[Int(o[5]) + p] &- S[Int(o[6]) + p] &+ S[Int(o[7]) + p]
                                var ret = w[0] * Float(s0) + w[1] * Float(s1)
                                if w[2] != 0 {
                                    let s2 = S[Int(o[8]) + p] &- S[Int(o[9]) + p] &- S[Int(o[10]) + p] &+ S[Int(o[11]) + p]
                                    ret += w[2] * Float(s2)
                                }
                                return ret * vnf
                            }
                            // 1 when every stage passes, else −(rejecting stage), as predictOrdered(Stump).
                            @inline(__always) func evaluate(_ p: Int, _ vnf: Float) -> Int {
                                for si in 0..<nStages {
                                    var acc = 0.0
                                    let first = Int(SF[si]), end = first + Int(SC[si])
                                    if stumps {
                                        for t in first..<end {
                                            let v = Double(feature(Int(F[t]), p, vnf))
                                            acc += v < Double(T[t]) ? Double(L[t]) : Double(R[t])
                                        }
                                    } else {
                                        for t in first..<end {
                                            let nodeBase = Int(TN[t]), leafBase = Int(TL[t])
                                            var idx = 0
                                            repeat {
                                                let k = nodeBase + idx
                                                let v = Double(feature(Int(NF[k]), p, vnf))
                                                idx = Int(v < Double(NT[k]) ? NL[k] : NR[k])
                                            } while idx > 0
                                            acc += Double(LV[leafBase - idx])
                                        }
                                    }
                                    if acc < STh[si] { return -si }
                                }
                                return 1
                            }
                            var y = 0
                            while y < workH {
                                var x = 0
                                while x < workW {
                                    let p = y * stride + x
                                    // setWindow: variance normalisation over the inner rectangle; windows
                                    // with (almost) no contrast are rejected before any stage.
                                    let valsum = S[p + n0] &- S[p + n1] &- S[p + n2] &+ S[p + n3]
                                    let valsq = UInt32(bitPattern: Q[p + n0] &- Q[p + n1] &- Q[p + n2] &+ Q[p + n3])
                                    var nfv = area * Double(valsq) - Double(valsum) * Double(valsum)
                                    var result = -1
                                    if nfv > 0 {
                                        nfv = nfv.squareRoot()
                                        let vnf = Float(1.0 / nfv)
                                        if area * Double(vnf) < 1e-1 { result = evaluate(p, vnf) }
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
        }
        return hits
    }

}

/// Calls `body` with base pointers of four arrays (keeps the hot loop free of bounds checks and
/// retain/release traffic).
@inline(__always)
func withPointers<A, B, C, D, R>(_ a: [A], _ b: [B], _ c: [C], _ d: [D],
                                 _ body: (UnsafePointer<A>, UnsafePointer<B>, UnsafePointer<C>, UnsafePointer<D>) -> R) -> R {
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeBufferPointer { pc in
                d.withUnsafeBufferPointer { pd in
                    body(pa.baseAddress ?? UnsafePointer(bitPattern: 8)!, pb.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                         pc.baseAddress ?? UnsafePointer(bitPattern: 8)!, pd.baseAddress ?? UnsafePointer(bitPattern: 8)!)
                }
            }
        }
    }
}
