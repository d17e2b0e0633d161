import Foundation

/// The face timeline as SVG: one band coloured by runs (face found / filled from neighbours), with marks for
/// subject changes and shot cuts when they are known. Runs are `<rect data-run="found|filled" data-first
/// data-last>` so the drawing can be checked frame for frame.
public struct TimelineChart: Sendable {
    public var times: [Double]
    public var found: [Bool]
    public var subjectChanges: [Int]
    public var shotCuts: [Int]
    public var width: Double = 880
    public let height: Double = 96

    static let left = 64.0, right = 170.0, top = 30.0, band = 26.0

    public init(times: [Double], found: [Bool], subjectChanges: [Int] = [], shotCuts: [Int] = []) {
        self.times = times; self.found = found; self.subjectChanges = subjectChanges; self.shotCuts = shotCuts
    }

    /// Frame i covers [i, i+1) in frame units across the band.
    public func pixel(frame i: Int) -> Double {
        Self.left + Double(i) / Double(max(found.count, 1)) * (width - Self.left - Self.right)
    }

    /// Maximal runs of equal `found` values: (first frame, last frame, found).
    public var runs: [(Int, Int, Bool)] {
        var out: [(Int, Int, Bool)] = []
        for (i, f) in found.enumerated() {
            if let last = out.last, last.2 == f, last.1 == i - 1 { out[out.count - 1].1 = i } else { out.append((i, i, f)) }
        }
        return out
    }

    public func svg() -> String {
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \(svgNumber(width)) \(svgNumber(height))" \
            role="img" aria-label="face timeline">
            <text class="title" x="\(svgNumber(Self.left))" y="18">Face per frame: found (green), filled from neighbours (orange)</text>

            """
        for (first, last, f) in runs {
            let x0 = pixel(frame: first), x1 = pixel(frame: last + 1)
            s += "<rect data-run=\"\(f ? "found" : "filled")\" data-first=\"\(first)\" data-last=\"\(last)\" x=\"\(svgNumber(x0))\" y=\"\(svgNumber(Self.top))\" width=\"\(svgNumber(x1 - x0))\" height=\"\(svgNumber(Self.band))\" fill=\"\(f ? "#3a9a5b" : "#e8912d")\"/>\n"
        }
        for (marks, kind, color) in [(subjectChanges, "subject-change", "#7b3fbf"), (shotCuts, "shot-cut", "#222")] {
            for i in marks {
                let x = svgNumber(pixel(frame: i))
                s += "<line data-mark=\"\(kind)\" data-frame=\"\(i)\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(svgNumber(Self.top - 4))\" y2=\"\(svgNumber(Self.top + Self.band + 4))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            }
        }
        // Seconds under the band: the first and last frame's times and a few between.
        if !times.isEmpty {
            for k in 0...4 {
                let i = min(times.count - 1, k * (times.count - 1) / 4)
                s += "<text class=\"tick\" x=\"\(svgNumber(pixel(frame: i)))\" y=\"\(svgNumber(Self.top + Self.band + 18))\" text-anchor=\"middle\">\(String(format: "%.1f s", times[i]))</text>"
            }
        }
        s += "<text class=\"axis\" x=\"\(svgNumber((Self.left + width - Self.right) / 2))\" y=\"\(svgNumber(height - 4))\" text-anchor=\"middle\">time (frame \(0)–\(max(found.count - 1, 0)))</text>\n"
        return s + "</svg>"
    }
}
