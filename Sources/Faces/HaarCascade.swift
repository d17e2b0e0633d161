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

    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FacesError.modelMissing(path: path, package: "opencv-data")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FacesError.cascadeUnreadable(path: path, reason: "cannot open the file")
        }
        let root: MiniXML.Element
        do { root = try MiniXML.parse([UInt8](data)) } catch {
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
                    nodes.append(Node(featureIndex: Int(inner[4 * k + 2]), threshold: Float(inner[4 * k + 3]),
                                      left: Int(inner[4 * k]), right: Int(inner[4 * k + 1])))
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
                guard v.count == 5 else { throw FacesError.cascadeUnreadable(path: path, reason: "malformed feature rectangle") }
                rects.append((Int(v[0]), Int(v[1]), Int(v[2]), Int(v[3]), Float(v[4])))
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
