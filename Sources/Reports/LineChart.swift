import Foundation

/// A line chart of series over a common x (seconds), drawn as SVG with labelled axes, grid and legend.
/// Each series is one `<polyline data-series="NAME">` whose points map back to the data through the axes.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var color: String
        public var values: [Double]
        public var dashed: Bool
        public init(name: String, color: String, values: [Double], dashed: Bool = false) {
            self.name = name; self.color = color; self.values = values; self.dashed = dashed
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xs: [Double]
    public var series: [Series]
    public var width: Double = 880
    public var height: Double = 260
    /// Horizontal reference lines (value, label), such as a threshold or the camera's safe range.
    public var guides: [(Double, String)] = []

    static let left = 64.0, right = 170.0, top = 30.0, bottom = 46.0

    public init(title: String, xLabel: String, yLabel: String, xs: [Double], series: [Series]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.xs = xs; self.series = series
    }

    public var xAxis: ChartAxis {
        ChartAxis(covering: xs.isEmpty ? [0, 1] : [xs.min()!, xs.max()!], ticks: 8, pixels: (Self.left, width - Self.right))
    }

    public var yAxis: ChartAxis {
        ChartAxis(covering: series.flatMap(\.values) + guides.map(\.0), ticks: 5, pixels: (height - Self.bottom, Self.top))
    }

    public func svg() -> String {
        let x = xAxis, y = yAxis
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \(svgNumber(width)) \(svgNumber(height))" \
            role="img" aria-label="\(htmlEscaped(title))">
            <text class="title" x="\(svgNumber(Self.left))" y="18">\(htmlEscaped(title))</text>

            """
        for t in y.ticks {
            let py = svgNumber(y.pixel(t))
            s += "<line class=\"grid\" x1=\"\(svgNumber(Self.left))\" x2=\"\(svgNumber(width - Self.right))\" y1=\"\(py)\" y2=\"\(py)\"/>"
            s += "<text class=\"tick\" x=\"\(svgNumber(Self.left - 6))\" y=\"\(py)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(y.label(t))</text>\n"
        }
        for t in x.ticks {
            let px = svgNumber(x.pixel(t))
            s += "<line class=\"grid\" x1=\"\(px)\" x2=\"\(px)\" y1=\"\(svgNumber(Self.top))\" y2=\"\(svgNumber(height - Self.bottom))\"/>"
            s += "<text class=\"tick\" x=\"\(px)\" y=\"\(svgNumber(height - Self.bottom + 16))\" text-anchor=\"middle\">\(x.label(t))</text>\n"
        }
        s += "<rect class=\"frame\" x=\"\(svgNumber(Self.left))\" y=\"\(svgNumber(Self.top))\" width=\"\(svgNumber(width - Self.left - Self.right))\" height=\"\(svgNumber(height - Self.top - Self.bottom))\"/>\n"
        s += "<text class=\"axis\" x=\"\(svgNumber((Self.left + width - Self.right) / 2))\" y=\"\(svgNumber(height - 8))\" text-anchor=\"middle\">\(htmlEscaped(xLabel))</text>\n"
        s += "<text class=\"axis\" transform=\"translate(16 \(svgNumber((Self.top + height - Self.bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(htmlEscaped(yLabel))</text>\n"
        for (value, label) in guides {
            let py = svgNumber(y.pixel(value))
            s += "<line class=\"guide\" data-guide=\"\(htmlEscaped(label))\" x1=\"\(svgNumber(Self.left))\" x2=\"\(svgNumber(width - Self.right))\" y1=\"\(py)\" y2=\"\(py)\"/>"
            s += "<text class=\"tick\" x=\"\(svgNumber(width - Self.right - 4))\" y=\"\(svgNumber(y.pixel(value) - 4))\" text-anchor=\"end\">\(htmlEscaped(label))</text>\n"
        }
        for (k, line) in series.enumerated() {
            let points = zip(xs, line.values).filter { $0.1.isFinite }
                .map { "\(svgNumber(x.pixel($0.0))),\(svgNumber(y.pixel($0.1)))" }.joined(separator: " ")
            let dash = line.dashed ? " stroke-dasharray=\"5 3\"" : ""
            s += "<polyline data-series=\"\(htmlEscaped(line.name))\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.6\"\(dash) points=\"\(points)\"/>\n"
            let ly = Self.top + 8 + Double(k) * 18
            let lx = width - Self.right + 12
            s += "<line x1=\"\(svgNumber(lx))\" x2=\"\(svgNumber(lx + 22))\" y1=\"\(svgNumber(ly))\" y2=\"\(svgNumber(ly))\" stroke=\"\(line.color)\" stroke-width=\"2.5\"\(dash)/>"
            s += "<text class=\"legend\" x=\"\(svgNumber(lx + 28))\" y=\"\(svgNumber(ly))\" dominant-baseline=\"middle\">\(htmlEscaped(line.name))</text>\n"
        }
        return s + "</svg>"
    }
}
