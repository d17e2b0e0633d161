import Foundation

/// A boosted cascade of Haar-feature trees as OpenCV's `traincascade` writes it (the format of the
/// `opencv-data` cascades: `<cascade>` with `stageType BOOST`, `featureType HAAR`, a window size,
/// `<stages>` of weak trees and a shared `<features>` table). Port of the reading half of OpenCV's
/// objdetect `CascadeClassifierImpl::Data::read` and `HaarEvaluator::read`; `HaarDetector` runs it.
public struct HaarCascade: Sendable {
    /// One Haar feature: up to three weighted rectangles in window coordinates.
    public struct Feature: Sendable {
        public var rects: [(x: Int, y: Int, width: Int, height: Int, weight: Float)]
    }

    /// One stage: a sum of tree outputs compared against `threshold`.
    public struct Stage: Sendable {
        public var threshold: Float
        public var firstTree: Int
        public var treeCount: Int
    }

    /// One node of a weak tree. `left`/`right` > 0 name the next node of the same tree; ≤ 0 name the
    /// leaf `-left` / `-right` (OpenCV's encoding).
    public struct Node: Sendable {
        public var featureIndex: Int
        public var threshold: Float
        public var left: Int
        public var right: Int
    }

    public let windowWidth: Int
    public let windowHeight: Int
    public let stages: [Stage]
    /// Per tree: offset of its first node in `nodes` and of its first leaf in `leaves`.
    public let treeNodeOffset: [Int]
    public let treeLeafOffset: [Int]
    public let nodes: [Node]
    public let leaves: [Float]
    public let features: [Feature]
    /// True when every tree is a single split (stumps): the fast path, as OpenCV's `predictOrderedStump`.
    public let isStumpBased: Bool

    /// OpenCV subtracts this from every stage threshold when loading (`THRESHOLD_EPS` in
    /// cascadedetect.cpp), so sums that equal the trained threshold pass.
    static let thresholdEpsilon: Float = 1e-5

    static let maxWindowSide = 1024

    /// A whole number written in the file, nil for fractions, non-finite or out-of-range values.
    static func integer(_ v: Double) -> Int? {
        guard v.rounded() == v, abs(v) <= Double(Int32.max) else { return nil }
        return Int(v)
    }

    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FacesError.modelMissing(path: path, package: "opencv-data")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FacesError.cascadeUnreadable(path: path, reason: "cannot open the file")
        }
        try self.init(xml: [UInt8](data), path: path)
    }

    /// Reads a cascade from the bytes of its XML file; `path` names it in errors.
    public init(xml data: [UInt8], path: String) throws {
        let root: MiniXML.Element
        do { root = try MiniXML.parse(data) } catch {
            throw FacesError.cascadeUnreadable(path: path, reason: "\(error)")
        }
        guard let storage = root.child("opencv_storage"), let cascade = storage.children.first else {
            throw FacesError.cascadeUnreadable(path: path, reason: "no <opencv_storage> element")
        }
        func text(_ name: String) -> String? { cascade.child(name)?.trimmedText }
        guard text("stageType") == "BOOST" else {
            throw FacesError.cascadeUnsupported(path: path, reason: "stageType is not BOOST (an old-format cascade?)")
        }
        guard text("featureType") == "HAAR" else {
            throw FacesError.cascadeUnsupported(path: path, reason: "featureType \(text("featureType") ?? "?") is not HAAR")
        }
        guard let w = Int(text("width") ?? ""), let h = Int(text("height") ?? ""), w > 2, h > 2 else {
            throw FacesError.cascadeUnreadable(path: path, reason: "missing window size")
        }
        // Trained windows are 14–40 pixels; the bound keeps every offset and area far from overflow.
        guard w <= Self.maxWindowSide, h <= Self.maxWindowSide else {
            throw FacesError.cascadeUnreadable(path: path, reason: "window \(w)×\(h) is larger than \(Self.maxWindowSide) pixels")
        }
        if let maxCat = cascade.child("featureParams")?.child("maxCatCount")?.trimmedText, maxCat != "0" {
            throw FacesError.cascadeUnsupported(path: path, reason: "categorical features (maxCatCount \(maxCat))")
        }
        guard let stagesNode = cascade.child("stages"), let featuresNode = cascade.child("features") else {
            throw FacesError.cascadeUnreadable(path: path, reason: "missing <stages> or <features>")
        }
        var stages: [Stage] = []
        var nodeOffsets: [Int] = [], leafOffsets: [Int] = []
        var nodes: [Node] = []
        var leaves: [Float] = []
        var maxNodes = 0
        for stageNode in stagesNode.children {
            guard let thr = Double(stageNode.child("stageThreshold")?.trimmedText ?? ""),
                  let weak = stageNode.child("weakClassifiers") else {
                throw FacesError.cascadeUnreadable(path: path, reason: "stage \(stages.count) is incomplete")
            }
            let first = nodeOffsets.count
            for tree in weak.children {
                let inner = MiniXML.numbers(tree.child("internalNodes")?.text ?? "")
                let leafValues = MiniXML.numbers(tree.child("leafValues")?.text ?? "")
                guard !inner.isEmpty, inner.count % 4 == 0, leafValues.count == inner.count / 4 + 1 else {
                    throw FacesError.cascadeUnreadable(path: path, reason: "malformed tree in stage \(stages.count)")
                }
                nodeOffsets.append(nodes.count)
                leafOffsets.append(leaves.count)
                let count = inner.count / 4
                maxNodes = max(maxNodes, count)
                for k in 0..<count {
                    // The detector follows `left`/`right` without checks: a child must be a later node of
                    // the same tree (so every walk ends) or one of its leaves (≤ 0: leaf −value).
                    guard let left = Self.integer(inner[4 * k]), let right = Self.integer(inner[4 * k + 1]),
                          let feature = Self.integer(inner[4 * k + 2]),
                          [left, right].allSatisfy({ $0 > 0 ? ($0 > k && $0 < count) : -$0 <= count }) else {
                        throw FacesError.cascadeUnreadable(path: path,
                            reason: "tree \(nodeOffsets.count - first) of stage \(stages.count): node \(k) points outside its tree")
                    }
                    nodes.append(Node(featureIndex: feature, threshold: Float(inner[4 * k + 3]), left: left, right: right))
                }
                leaves.append(contentsOf: leafValues.map { Float($0) })
            }
            stages.append(Stage(threshold: Float(thr) - HaarCascade.thresholdEpsilon, firstTree: first,
                                treeCount: nodeOffsets.count - first))
        }
        var features: [Feature] = []
        for f in featuresNode.children {
            if let tilted = f.child("tilted")?.trimmedText, tilted != "0" {
                throw FacesError.cascadeUnsupported(path: path, reason: "tilted (45°) Haar features")
            }
            var rects: [(x: Int, y: Int, width: Int, height: Int, weight: Float)] = []
            for r in f.child("rects")?.children ?? [] {
                let v = MiniXML.numbers(r.text)
                // The detector turns corners into raw offsets in the integral image: each rectangle must
                // lie inside the window.
                guard v.count == 5, let x = Self.integer(v[0]), let y = Self.integer(v[1]),
                      let rw = Self.integer(v[2]), let rh = Self.integer(v[3]), v[4].isFinite else {
                    throw FacesError.cascadeUnreadable(path: path, reason: "malformed rectangle in feature \(features.count)")
                }
                guard x >= 0, y >= 0, rw >= 0, rh >= 0, x + rw <= w, y + rh <= h else {
                    throw FacesError.cascadeUnreadable(path: path,
                        reason: "feature \(features.count) has rectangle (\(x), \(y), \(rw), \(rh)) outside the \(w)×\(h) window")
                }
                rects.append((x, y, rw, rh, Float(v[4])))
            }
            guard (1...3).contains(rects.count) else {
                throw FacesError.cascadeUnreadable(path: path, reason: "feature with \(rects.count) rectangles")
            }
            features.append(Feature(rects: rects))
        }
        guard !stages.isEmpty else { throw FacesError.cascadeUnreadable(path: path, reason: "no stages") }
        for n in nodes where n.featureIndex < 0 || n.featureIndex >= features.count {
            throw FacesError.cascadeUnreadable(path: path, reason: "feature index \(n.featureIndex) out of range")
        }
        self.windowWidth = w
        self.windowHeight = h
        self.stages = stages
        self.treeNodeOffset = nodeOffsets
        self.treeLeafOffset = leafOffsets
        self.nodes = nodes
        self.leaves = leaves
        self.features = features
        self.isStumpBased = maxNodes == 1
    }
}
