import Foundation

/// dlib's ensemble-of-regression-trees face-landmark model (Kazemi & Sullivan 2014) as dlib's
/// `shape_predictor` stores and runs it (dlib/image_processing/shape_predictor.h): a mean shape in
/// box-normalised coordinates, then a cascade of levels; each level samples pixel intensities at points
/// anchored to the current shape's landmarks (moved by the similarity transform from the mean shape to
/// the current one), runs its forest of depth-d regression trees on pixel-difference splits, and adds
/// the leaves to the shape.
public struct ShapePredictor: Sendable {
    /// Mean shape, (x0, y0, x1, y1, …) in the unit box.
    public let initialShape: [Float]
    /// Per cascade level: the feature points' anchor landmark and offset (in mean-shape space).
    let anchor: [[Int32]]
    let deltas: [[(Float, Float)]]
    /// All trees' splits, flattened: tree `k` (level-major) owns `splitOffset[k] ..< splitOffset[k+1]`;
    /// splits are heap-ordered (children of i are 2i+1 and 2i+2), as dlib stores them.
    let splitIdx1: [Int32]
    let splitIdx2: [Int32]
    let splitThresh: [Float]
    let splitOffset: [Int]
    /// All trees' leaves, flattened: tree `k`'s leaf `l` starts at `leafOffset[k] + l · shapeLength`.
    let leafValues: [Float]
    let leafOffset: [Int]
    /// Number of trees per cascade level.
    let treesPerLevel: [Int]

    public var landmarkCount: Int { initialShape.count / 2 }
    public var cascadeDepth: Int { anchor.count }

    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FacesError.modelMissing(path: path, package: "libdlib-data")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FacesError.predictorUnreadable(path: path, reason: "cannot open the file")
        }
        try self.init(data: [UInt8](data), path: path)
    }

    /// Reads a predictor from the bytes of its `.dat` file; `path` names it in errors.
    public init(data: [UInt8], path: String) throws {
        do {
            try self.init(bytes: data)
        } catch let failure as DlibDeserializer.Failure {
            throw FacesError.predictorUnreadable(path: path, reason: failure.description)
        }
    }

    init(bytes: [UInt8]) throws {
        var d = DlibDeserializer(bytes: bytes)
        let version = try d.integer()
        guard version == 1 else { throw DlibDeserializer.Failure(offset: 0, message: "shape_predictor version \(version), expected 1") }
        let shape = try d.floatColumn()
        guard !shape.isEmpty, shape.count % 2 == 0 else { throw DlibDeserializer.Failure(offset: d.offset, message: "bad initial shape") }
        let levels = try d.unsigned()
        var s1: [Int32] = [], s2: [Int32] = [], st: [Float] = [], so: [Int] = [0]
        var lv: [Float] = [], lo: [Int] = []
        var perLevel: [Int] = []
        for _ in 0..<levels {
            let trees = try d.unsigned()
            perLevel.append(trees)
            for _ in 0..<trees {
                let splits = try d.unsigned()
                for _ in 0..<splits {
                    s1.append(Int32(try d.unsigned()))
                    s2.append(Int32(try d.unsigned()))
                    st.append(try d.float())
                }
                so.append(s1.count)
                let leaves = try d.unsigned()
                guard leaves == splits + 1 else { throw DlibDeserializer.Failure(offset: d.offset, message: "tree with \(splits) splits and \(leaves) leaves") }
                lo.append(lv.count)
                for _ in 0..<leaves {
                    let leaf = try d.floatColumn()
                    guard leaf.count == shape.count else { throw DlibDeserializer.Failure(offset: d.offset, message: "leaf size \(leaf.count)") }
                    lv.append(contentsOf: leaf)
                }
            }
        }
        let anchorLevels = try d.unsigned()
        var anchors: [[Int32]] = []
        for _ in 0..<anchorLevels {
            let n = try d.unsigned()
            var a: [Int32] = []
            for _ in 0..<n {
                let v = try d.unsigned()
                guard v < shape.count / 2 else { throw DlibDeserializer.Failure(offset: d.offset, message: "anchor \(v) out of range") }
                a.append(Int32(v))
            }
            anchors.append(a)
        }
        let deltaLevels = try d.unsigned()
        var deltas: [[(Float, Float)]] = []
        for _ in 0..<deltaLevels {
            let n = try d.unsigned()
            var a: [(Float, Float)] = []
            for _ in 0..<n { a.append((try d.float(), try d.float())) }
            deltas.append(a)
        }
        guard anchors.count == levels, deltas.count == levels,
              zip(anchors, deltas).allSatisfy({ $0.count == $1.count }) else {
            throw DlibDeserializer.Failure(offset: d.offset, message: "cascade levels disagree")
        }
        // dlib writes only finite numbers; anything else is damage and would poison every shape.
        guard shape.allSatisfy(\.isFinite), lv.allSatisfy(\.isFinite), st.allSatisfy(\.isFinite),
              deltas.allSatisfy({ $0.allSatisfy { $0.0.isFinite && $0.1.isFinite } }) else {
            throw DlibDeserializer.Failure(offset: d.offset, message: "a value that is not a finite number")
        }
        var tree = 0
        for level in 0..<levels {
            let n = Int32(anchors[level].count)
            for _ in 0..<perLevel[level] {
                for k in so[tree]..<so[tree + 1] where s1[k] >= n || s2[k] >= n {
                    throw DlibDeserializer.Failure(offset: d.offset, message: "split feature out of range")
                }
                tree += 1
            }
        }
        initialShape = shape
        anchor = anchors
        self.deltas = deltas
        splitIdx1 = s1
        splitIdx2 = s2
        splitThresh = st
        splitOffset = so
        leafValues = lv
        leafOffset = lo
        treesPerLevel = perLevel
    }

    /// dlib's rounding of a floating point to an integer pixel (`point(dpoint)`): floor(v + 0.5).
    /// A point no image reaches (a damaged model can send the shape anywhere) gives −1: outside.
    @inline(__always) static func roundPixel(_ v: Double) -> Int {
        let r = (v + 0.5).rounded(.down)
        return r >= 0 && r < Double(Int32.max) ? Int(r) : -1
    }

    /// The 68 (or however many the model has) landmarks for the face in `box`, in pixel coordinates of
    /// `image`. `box` is dlib's inclusive rectangle (left, top, right, bottom). Unlike dlib, which rounds
    /// the output to integer `point`s, the points keep their sub-pixel value; `rounded` gives dlib's.
    public func predict(_ image: GrayImage, box: DlibRect) -> [Point2] {
        var shape = initialShape
        let n = shape.count / 2
        // unnormalizing_tform: unit box → image: (0,0)→top-left, (1,0)→top-right, (1,1)→bottom-right.
        let bx = Double(box.left), by = Double(box.top)
        let bw = Double(box.right - box.left), bh = Double(box.bottom - box.top)
        var features = [Float]()
        var tree = 0
        image.pixels.withUnsafeBufferPointer { px in
            for level in 0..<anchor.count {
                let (m00, m01, m10, m11) = Self.similarityMatrix(from: initialShape, to: shape)
                let anchors = anchor[level], offsets = deltas[level]
                features = [Float](repeating: 0, count: anchors.count)
                for i in 0..<anchors.count {
                    let a = Int(anchors[i])
                    let (dx, dy) = offsets[i]
                    // tform * delta in single precision (dlib casts the transform to float), plus the anchor.
                    let sx = (m00 * dx + m01 * dy) + shape[2 * a]
                    let sy = (m10 * dx + m11 * dy) + shape[2 * a + 1]
                    let x = Self.roundPixel(bx + Double(sx) * bw)
                    let y = Self.roundPixel(by + Double(sy) * bh)
                    if x >= 0, y >= 0, x < image.width, y < image.height {
                        features[i] = Float(px[y * image.width + x])
                    }
                }
                let trees = treesPerLevel[level]
                splitIdx1.withUnsafeBufferPointer { i1 in
                    splitIdx2.withUnsafeBufferPointer { i2 in
                        splitThresh.withUnsafeBufferPointer { th in
                            leafValues.withUnsafeBufferPointer { lv in
                                features.withUnsafeBufferPointer { fv in
                                    shape.withUnsafeMutableBufferPointer { sh in
                                        for _ in 0..<trees {
                                            let base = splitOffset[tree], nSplits = splitOffset[tree + 1] - base
                                            var node = 0
                                            while node < nSplits {
                                                let k = base + node
                                                node = fv[Int(i1[k])] - fv[Int(i2[k])] > th[k] ? 2 * node + 1 : 2 * node + 2
                                            }
                                            let leafBase = leafOffset[tree] + (node - nSplits) * 2 * n
                                            for j in 0..<(2 * n) { sh[j] += lv[leafBase + j] }
                                            tree += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (0..<n).map { i in
            Point2(x: bx + Double(shape[2 * i]) * bw, y: by + Double(shape[2 * i + 1]) * bh)
        }
    }

    /// The linear part (scale · rotation) of the least-squares similarity transform taking the shape
    /// `from` onto `to` (Umeyama 1991, eqs. 34–43, as dlib's `find_similarity_transform`), computed in
    /// double and returned in single precision as dlib's `matrix_cast<float>` does. In 2-D the
    /// rotation-and-scale optimum has the closed form a = Σ(p·q)/Σ|p|², b = Σ(p×q)/Σ|p|² over centred
    /// points, which equals Umeyama's c·R (including its reflection guard, which never changes c·R's
    /// value here because trace(D·S) then equals the same norm).
    static func similarityMatrix(from: [Float], to: [Float]) -> (Float, Float, Float, Float) {
        let n = from.count / 2
        var mfx = 0.0, mfy = 0.0, mtx = 0.0, mty = 0.0
        for i in 0..<n {
            mfx += Double(from[2 * i]); mfy += Double(from[2 * i + 1])
            mtx += Double(to[2 * i]); mty += Double(to[2 * i + 1])
        }
        mfx /= Double(n); mfy /= Double(n); mtx /= Double(n); mty /= Double(n)
        var sigma = 0.0, dot = 0.0, cross = 0.0
        for i in 0..<n {
            let px = Double(from[2 * i]) - mfx, py = Double(from[2 * i + 1]) - mfy
            let qx = Double(to[2 * i]) - mtx, qy = Double(to[2 * i + 1]) - mty
            sigma += px * px + py * py
            dot += px * qx + py * qy
            cross += px * qy - py * qx
        }
        if sigma == 0 { return (1, 0, 0, 1) }
        let a = dot / sigma, b = cross / sigma
        return (Float(a), Float(-b), Float(b), Float(a))
    }
}
