/// Neighbour grouping of raw cascade hits, as OpenCV's `cv::groupRectangles(rectList, groupThreshold,
/// eps)` does it: rectangles are put in equivalence classes (transitive closure of the `SimilarRects`
/// predicate, i.e. `cv::partition`), each class is averaged, classes with `groupThreshold` or fewer
/// members are dropped, and a class lying inside a stronger one (within `eps` of its size) is dropped too.
public enum RectangleGrouping {
    /// OpenCV's `SimilarRects`: every edge within `eps · (min widths + min heights) / 2` of the other's.
    @inline(__always)
    static func similar(_ a: FaceRect, _ b: FaceRect, eps: Double) -> Bool {
        let delta = eps * Double(min(a.width, b.width) + min(a.height, b.height)) * 0.5
        return Double(abs(a.x - b.x)) <= delta && Double(abs(a.y - b.y)) <= delta
            && Double(abs(a.x + a.width - b.x - b.width)) <= delta
            && Double(abs(a.y + a.height - b.y - b.height)) <= delta
    }

    /// Union–find partition; classes are numbered in order of their first member, as `cv::partition` does.
    static func partition(_ rects: [FaceRect], eps: Double) -> (labels: [Int], classes: Int) {
        let n = rects.count
        var parent = Array(0..<n)
        func find(_ i: Int) -> Int {
            var r = i
            while parent[r] != r { r = parent[r] }
            var j = i
            while parent[j] != r { let next = parent[j]; parent[j] = r; j = next }
            return r
        }
        for i in 0..<n {
            for j in 0..<i where similar(rects[i], rects[j], eps: eps) {
                let a = find(i), b = find(j)
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        var classOfRoot = [Int](repeating: -1, count: n)
        var labels = [Int](repeating: 0, count: n)
        var classes = 0
        for i in 0..<n {
            let r = find(i)
            if classOfRoot[r] < 0 { classOfRoot[r] = classes; classes += 1 }
            labels[i] = classOfRoot[r]
        }
        return (labels, classes)
    }

    /// Returns the grouped rectangles and each one's number of raw hits ("neighbours").
    public static func group(_ rects: [FaceRect], threshold: Int, eps: Double = 0.2) -> [(rect: FaceRect, neighbours: Int)] {
        if threshold <= 0 || rects.isEmpty { return rects.map { ($0, 1) } }
        let (labels, classes) = partition(rects, eps: eps)
        var sums = [(Int, Int, Int, Int)](repeating: (0, 0, 0, 0), count: classes)
        var weights = [Int](repeating: 0, count: classes)
        for (i, r) in rects.enumerated() {
            let c = labels[i]
            sums[c].0 += r.x; sums[c].1 += r.y; sums[c].2 += r.width; sums[c].3 += r.height
            weights[c] += 1
        }
        // The mean is taken in single precision and rounded to nearest (saturate_cast<int>(r.x * s)
        // with s = 1.f / n in OpenCV).
        let averaged: [FaceRect] = (0..<classes).map { c in
            let s = Float(1) / Float(weights[c])
            func avg(_ v: Int) -> Int { Int((Float(v) * s).rounded(.toNearestOrEven)) }
            return FaceRect(x: avg(sums[c].0), y: avg(sums[c].1), width: avg(sums[c].2), height: avg(sums[c].3))
        }
        var out: [(FaceRect, Int)] = []
        for i in 0..<classes {
            let r1 = averaged[i], n1 = weights[i]
            if n1 <= threshold { continue }
            var swallowed = false
            for j in 0..<classes where j != i {
                let n2 = weights[j]
                if n2 <= threshold { continue }
                let r2 = averaged[j]
                let dx = Int((Double(r2.width) * eps).rounded(.toNearestOrEven))
                let dy = Int((Double(r2.height) * eps).rounded(.toNearestOrEven))
                if r1.x >= r2.x - dx && r1.y >= r2.y - dy
                    && r1.x + r1.width <= r2.x + r2.width + dx && r1.y + r1.height <= r2.y + r2.height + dy
                    && (n2 > max(3, n1) || n1 < 3) {
                    swallowed = true
                    break
                }
            }
            if !swallowed { out.append((r1, n1)) }
        }
        return out
    }
}
