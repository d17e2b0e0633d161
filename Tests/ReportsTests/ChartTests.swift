import Foundation
import XCTest
@testable import Reports

/// The charts are checked against their data: every drawn point is read back out of the SVG and mapped
/// through the axes to the value it stands for.
final class ChartTests: XCTestCase {
    /// `points="x,y x,y …"` of the polyline with `data-series="name"`.
    static func points(_ svg: String, series: String) throws -> [(Double, Double)] {
        let marker = "data-series=\"\(series)\""
        let start = try XCTUnwrap(svg.range(of: marker), "no series \(series)")
        let rest = svg[start.upperBound...]
        let open = try XCTUnwrap(rest.range(of: "points=\""))
        let close = try XCTUnwrap(rest[open.upperBound...].firstIndex(of: "\""))
        return try rest[open.upperBound..<close].split(separator: " ").map { pair in
            let xy = pair.split(separator: ",").compactMap { Double($0) }
            XCTAssertEqual(xy.count, 2)
            return (try XCTUnwrap(xy.first), try XCTUnwrap(xy.last))
        }
    }

    func testLineChartPlotsEveryValueWhereTheAxesSay() throws {
        let xs = (0..<50).map { Double($0) / 25 }
        let yaw = xs.map { 12 * sin(3 * $0) }, camera = xs.map { max(-8, min(8, 12 * sin(3 * $0))) }
        let chart = LineChart(title: "Yaw", xLabel: "seconds", yLabel: "degrees", xs: xs, series: [
            .init(name: "yaw smoothed", color: "#00f", values: yaw), .init(name: "camera yaw", color: "#f00", values: camera),
        ])
        let svg = chart.svg()
        for (name, values) in [("yaw smoothed", yaw), ("camera yaw", camera)] {
            let pts = try Self.points(svg, series: name)
            XCTAssertEqual(pts.count, values.count)
            for (k, (px, py)) in pts.enumerated() {
                XCTAssertEqual(chart.xAxis.value(atPixel: px), xs[k], accuracy: 0.01, "x of point \(k) of \(name)")
                XCTAssertEqual(chart.yAxis.value(atPixel: py), values[k], accuracy: 0.05, "y of point \(k) of \(name)")
            }
        }
        // The axis covers the data with labelled ticks, and says what it measures.
        XCTAssertLessThanOrEqual(chart.yAxis.lower, yaw.min()!)
        XCTAssertGreaterThanOrEqual(chart.yAxis.upper, yaw.max()!)
        for t in chart.yAxis.ticks { XCTAssertTrue(svg.contains(">\(chart.yAxis.label(t))</text>"), "tick \(t) unlabelled") }
        XCTAssertTrue(svg.contains(">seconds</text>") && svg.contains(">degrees</text>"))
        // Higher values are drawn higher up (SVG's y grows downwards).
        XCTAssertLessThan(chart.yAxis.pixel(10), chart.yAxis.pixel(-10))
    }

    func testAxisTicksAreRoundNumbers() {
        let axis = ChartAxis(covering: [0.013, 0.087], ticks: 5, pixels: (0, 100))
        XCTAssertEqual(axis.step, 0.02, accuracy: 1e-12)
        XCTAssertEqual(axis.lower, 0.0, accuracy: 1e-12)
        XCTAssertEqual(axis.upper, 0.1, accuracy: 1e-12)
        XCTAssertEqual(axis.label(0.04), "0.04")
    }

    func testBarLengthsAreProportionalToTheirValues() throws {
        let bars = [("generator", 4.0), ("styles", 0.5), ("video encode", 1.25)]
        let chart = BarChart(title: "time", unit: "seconds", bars: bars.map { .init(label: $0.0, value: $0.1, color: "#00f") })
        let svg = chart.svg()
        for (label, value) in bars {
            let marker = try XCTUnwrap(svg.range(of: "data-label=\"\(label)\""))
            let rest = svg[marker.upperBound...]
            let w = try XCTUnwrap(rest.range(of: "width=\"")).upperBound
            let width = try XCTUnwrap(Double(rest[w...].prefix { $0 != "\"" }))
            XCTAssertEqual(chart.axis.pixel(0) + width, chart.axis.pixel(value), accuracy: 0.01, label)
        }
    }

    func testTimelineRunsCoverEveryFrameWithItsState() {
        let found = [true, true, false, false, false, true, true, true, false, true]
        let chart = TimelineChart(times: (0..<10).map { Double($0) / 10 }, found: found, shotCuts: [5])
        let svg = chart.svg()
        let runs = svg.components(separatedBy: "data-run=\"").dropFirst().map { chunk -> (String, Int, Int) in
            func attribute(_ name: String) -> Int { Int(chunk.components(separatedBy: "\(name)=\"")[1].prefix { $0 != "\"" })! }
            return (String(chunk.prefix { $0 != "\"" }), attribute("data-first"), attribute("data-last"))
        }
        var rebuilt: [Bool] = []
        for (state, first, last) in runs {
            XCTAssertEqual(first, rebuilt.count, "runs must be contiguous")
            rebuilt += Array(repeating: state == "found", count: last - first + 1)
        }
        XCTAssertEqual(rebuilt, found)
        XCTAssertTrue(svg.contains("data-mark=\"shot-cut\" data-frame=\"5\""))
    }

    func testUserTextIsEscaped() {
        XCTAssertEqual(htmlEscaped("<script>alert('x')</script>&\""), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;")
        let chart = LineChart(title: "<b>x</b>", xLabel: "s", yLabel: "v", xs: [0, 1], series: [.init(name: "<i>", color: "#000", values: [0, 1])])
        XCTAssertFalse(chart.svg().contains("<b>") || chart.svg().contains("<i>"))
    }
}
