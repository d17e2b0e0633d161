import Foundation

/// Horizontal bars with a value axis from zero, drawn as SVG; each bar is a `<rect data-label data-value>`.
/// Bars may come in groups (before/after per layer group) that share a label, told apart by colour.
public struct BarChart: Sendable {
    public struct Bar: Sendable {
        public var label: String
        public var value: Double
        public var color: String
        /// Indented labels mark a part of the bar above (a sub-stage).
        public var indent: Bool
        public init(label: String, value: Double, color: String, indent: Bool = false) {
            self.label = label; self.value = value; self.color = color; self.indent = indent
        }
    }

    public var title: String
    public var unit: String
    public var bars: [Bar]
    public var legend: [(String, String)] = []
    public var width: Double = 880
    public var rowHeight: Double = 20

    static let left = 190.0, right = 90.0, bottom = 40.0
    /// Room for the title, and for the legend on a line of its own under it (a long title would run into it).
    var top: Double { legend.isEmpty ? 30 : 50 }

    public init(title: String, unit: String, bars: [Bar]) { self.title = title; self.unit = unit; self.bars = bars }

    public var height: Double { top + Double(max(bars.count, 1)) * rowHeight + Self.bottom }

    public var axis: ChartAxis {
        ChartAxis(covering: bars.map(\.value), ticks: 6, includeZero: true, pixels: (Self.left, width - Self.right))
    }

    public func svg() -> String {
        let x = axis
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \(svgNumber(width)) \(svgNumber(height))" \
            role="img" aria-label="\(htmlEscaped(title))">
            <text class="title" x="\(svgNumber(Self.left))" y="18">\(htmlEscaped(title))</text>

            """
        let bottomY = height - Self.bottom
        for t in x.ticks {
            let px = svgNumber(x.pixel(t))
            s += "<line class=\"grid\" x1=\"\(px)\" x2=\"\(px)\" y1=\"\(svgNumber(top))\" y2=\"\(svgNumber(bottomY))\"/>"
            s += "<text class=\"tick\" x=\"\(px)\" y=\"\(svgNumber(bottomY + 16))\" text-anchor=\"middle\">\(x.label(t))</text>\n"
        }
        s += "<text class=\"axis\" x=\"\(svgNumber((Self.left + width - Self.right) / 2))\" y=\"\(svgNumber(height - 6))\" text-anchor=\"middle\">\(htmlEscaped(unit))</text>\n"
        for (i, bar) in bars.enumerated() {
            let y = top + Double(i) * rowHeight
            let w = max(0, x.pixel(bar.value) - x.pixel(0))
            s += "<text class=\"label\" x=\"\(svgNumber(Self.left - 8 - (bar.indent ? 0 : 0)))\" y=\"\(svgNumber(y + rowHeight / 2))\" text-anchor=\"end\" dominant-baseline=\"middle\">\(bar.indent ? "· " : "")\(htmlEscaped(bar.label))</text>"
            s += "<rect data-label=\"\(htmlEscaped(bar.label))\" data-value=\"\(bar.value)\" x=\"\(svgNumber(x.pixel(0)))\" y=\"\(svgNumber(y + 3))\" width=\"\(svgNumber(w))\" height=\"\(svgNumber(rowHeight - 6))\" fill=\"\(bar.color)\"\(bar.indent ? " fill-opacity=\"0.6\"" : "")/>"
            s += "<text class=\"value\" x=\"\(svgNumber(x.pixel(0) + w + 4))\" y=\"\(svgNumber(y + rowHeight / 2))\" dominant-baseline=\"middle\">\(Self.format(bar.value))</text>\n"
        }
        for (k, (name, color)) in legend.enumerated() {
            let lx = Self.left + Double(k) * 140
            s += "<rect x=\"\(svgNumber(lx))\" y=\"26\" width=\"12\" height=\"12\" fill=\"\(color)\"/><text class=\"legend\" x=\"\(svgNumber(lx + 16))\" y=\"32\" dominant-baseline=\"middle\">\(htmlEscaped(name))</text>\n"
        }
        return s + "</svg>"
    }

    static func format(_ v: Double) -> String {
        v >= 100 ? String(format: "%.0f", v) : v >= 1 ? String(format: "%.2f", v) : String(format: "%.4f", v)
    }
}
