import Faces
import Foundation
import Video

/// The clip report as one self-contained HTML file: inline CSS, inline SVG charts, pictures as data URLs,
/// no script and nothing fetched, so it opens from disk anywhere and can be mailed as it is.
public enum ReportPage {
    static let palette = (raw: "#9aa4b1", smoothed: "#1f6fd1", camera: "#d1461f", before: "#e8912d", after: "#1f6fd1")

    public static func html(_ r: ClipReport) -> String {
        let degrees = 180 / Double.pi
        func deg(_ v: [Double]) -> [Double] { v.map { $0 * degrees } }
        var body = ""
        body += "<header><h1>\(htmlEscaped(r.title))</h1><p class=\"sub\">avatarize clip report · \(htmlEscaped(Self.stamp(r.created)))</p></header>\n"

        var facts: [(String, String)] = []
        if let input = r.input { facts.append(("input", input)) }
        facts.append(("output", r.output))
        facts.append(("frames", "\(r.frames) (\(r.width)×\(r.height))"))
        facts.append(("duration", String(format: "%.2f s", (r.times.last ?? 0) - (r.times.first ?? 0))))
        facts.append(("time taken", String(format: "%.1f s, %.2f frames per second", r.totalSeconds, r.framesPerSecond)))
        facts.append(("faces", "found in \(r.faces.foundCount) of \(r.faces.found.count) frames, \(r.faces.filledCount) filled from neighbours"))
        facts += r.settings.map { ($0.name, $0.value) }
        body += "<section><h2>Run</h2><table class=\"facts\">"
        body += facts.map { "<tr><th>\(htmlEscaped($0.0))</th><td>\(htmlEscaped($0.1))</td></tr>" }.joined()
        body += "</table></section>\n"

        body += "<section><h2>Head pose</h2><p>As tracked (grey, dashed), after the track's smoothing (blue), and the camera the avatar was rendered from (red).</p>\n"
        var yaw = LineChart(title: "Yaw", xLabel: "seconds", yLabel: "degrees", xs: r.times, series: [
            .init(name: "yaw tracked", color: palette.raw, values: deg(r.pose.rawYaw), dashed: true),
            .init(name: "yaw smoothed", color: palette.smoothed, values: deg(r.pose.smoothedYaw)),
            .init(name: "camera yaw", color: palette.camera, values: deg(r.pose.cameraYaw)),
        ])
        yaw.guides = []
        body += yaw.svg() + "\n"
        body += LineChart(title: "Pitch", xLabel: "seconds", yLabel: "degrees", xs: r.times, series: [
            .init(name: "pitch tracked", color: palette.raw, values: deg(r.pose.rawPitch), dashed: true),
            .init(name: "pitch smoothed", color: palette.smoothed, values: deg(r.pose.smoothedPitch)),
            .init(name: "camera pitch", color: palette.camera, values: deg(r.pose.cameraPitch)),
        ]).svg() + "\n"
        body += LineChart(title: "Roll (tilt of the aligned crop; the camera has none)", xLabel: "seconds", yLabel: "degrees", xs: r.times, series: [
            .init(name: "roll tracked", color: palette.raw, values: deg(r.pose.rawRoll), dashed: true),
            .init(name: "roll smoothed", color: palette.smoothed, values: deg(r.pose.smoothedRoll)),
        ]).svg() + "</section>\n"

        var jitter = BarChart(title: "Code jitter: mean frame-to-frame distance of the W+ codes", unit: "L2 distance per frame step",
                              bars: r.jitter.flatMap { g in [
                                  BarChart.Bar(label: "\(g.name) (layers \(g.firstLayer)–\(g.lastLayer)) before", value: g.before, color: palette.before),
                                  BarChart.Bar(label: "\(g.name) after", value: g.after, color: palette.after),
                              ] })
        jitter.legend = [("before smoothing", palette.before), ("after", palette.after)]
        body += "<section><h2>Smoothing</h2>" + jitter.svg() + "</section>\n"

        var timeline = "<section><h2>Face timeline</h2>"
        timeline += TimelineChart(times: r.times, found: r.faces.found, subjectChanges: r.faces.subjectChanges ?? [],
                                  shotCuts: r.faces.shotCuts ?? []).svg()
        var unknown: [String] = []
        if r.faces.subjectChanges == nil { unknown.append("subject changes") }
        if r.faces.shotCuts == nil { unknown.append("shot cuts") }
        if !unknown.isEmpty { timeline += "<p class=\"note\">This track does not record \(unknown.joined(separator: " or ")).</p>" }
        body += timeline + "</section>\n"

        let stageBars = r.stages.map { s in
            BarChart.Bar(label: "\(s.pass): \(s.name)", value: s.seconds, color: s.pass == "encode" ? "#3a9a5b" : "#1f6fd1", indent: s.depth > 0)
        }
        var stages = BarChart(title: String(format: "Time per stage (%.1f s in all, %.2f frames per second)", r.totalSeconds, r.framesPerSecond),
                              unit: "seconds", bars: stageBars)
        stages.legend = [("encode", "#3a9a5b"), ("render", "#1f6fd1")]
        body += "<section><h2>Where the time went</h2>" + stages.svg() + "<p class=\"note\">Rows marked · are parts of the generator row above them.</p></section>\n"

        body += "<section><h2>Contact sheet</h2><table class=\"sheet\"><tr><th></th>"
        body += r.moments.map { "<th>frame \($0.index)<br>\(String(format: "%.2f s", $0.seconds))</th>" }.joined() + "</tr>"
        for (name, pick) in [("source", { (m: ClipReport.Moment) in m.source }), ("aligned crop", { $0.crop }), ("avatar", { Optional($0.avatar) })] {
            body += "<tr><th>\(name)</th>" + r.moments.map { m in
                pick(m).map { "<td><img alt=\"\(name) at frame \(m.index)\" src=\"\($0)\"></td>" } ?? "<td class=\"none\">—</td>"
            }.joined() + "</tr>"
        }
        body += "</table></section>\n"

        body += "<section><h2>Edits</h2>"
        if r.edits.isEmpty {
            body += "<p>No edits were applied.</p>"
        } else {
            let colors = ["#1f6fd1", "#d1461f", "#3a9a5b", "#7b3fbf", "#b08900", "#1a9aa0"]
            body += "<table class=\"facts\">" + r.edits.map { "<tr><th>\(htmlEscaped($0.name))</th><td>\(htmlEscaped($0.keyframes))</td></tr>" }.joined() + "</table>"
            body += LineChart(title: "Edit strength per frame", xLabel: "seconds", yLabel: "strength", xs: r.times,
                              series: r.edits.enumerated().map { .init(name: $0.element.name, color: colors[$0.offset % colors.count], values: $0.element.values) }).svg()
        }
        body += "</section>\n"

        if let id = r.identity { body += identitySection(id, times: r.times) }
        if !r.notes.isEmpty {
            body += "<section><h2>Notes</h2><ul>" + r.notes.map { "<li>\(htmlEscaped($0))</li>" }.joined() + "</ul></section>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(htmlEscaped(r.title)) · avatarize report</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>\(style)</style></head>
            <body>
            \(body)</body></html>

            """
    }

    /// The identity figure: its numbers, and the descriptor distance per compared frame against dlib's
    /// same-person threshold.
    static func identitySection(_ id: ClipReport.Identity, times: [Double]) -> String {
        let s = id.summary
        var facts = [("compared", "\(s.compared) of \(s.frames) frames")]
        if let mean = s.meanSimilarity, let p10 = s.similarityP10 {
            facts.append(("cosine similarity", String(format: "mean %.3f, 10th percentile %.3f", mean, p10)))
        }
        if let mean = s.meanDistance, let share = s.shareSamePerson {
            facts.append(("descriptor distance", String(format: "mean %.3f; under %.1f (dlib's same-person threshold) in %.0f%% of compared frames",
                                                        mean, FaceRecognizer.samePersonDistance, 100 * share)))
        }
        facts.append(("no plausible face on the avatar", "\(s.avatarWithoutFace) frames"))
        facts.append(("no face in the source", "\(s.sourceWithoutFace) frames (filled from neighbours)"))
        var html = "<section id=\"identity\"><h2>Identity</h2><p>dlib's face descriptors of the source's face and of the avatar's, frame by frame.</p>"
        html += "<table class=\"facts\">" + facts.map { "<tr><th>\(htmlEscaped($0.0))</th><td data-identity=\"\(htmlEscaped($0.0))\">\(htmlEscaped($0.1))</td></tr>" }.joined() + "</table>"
        if s.compared > 0 {
            var chart = LineChart(title: "Descriptor distance, source face to avatar face", xLabel: "seconds", yLabel: "distance", xs: times,
                                  series: [.init(name: "distance", color: "#7b3fbf", values: id.distances)])
            chart.guides = [(FaceRecognizer.samePersonDistance, String(format: "same person below %.1f", FaceRecognizer.samePersonDistance))]
            html += chart.svg() + "<p class=\"note\">Frames that were not compared are left out of the line.</p>"
        } else {
            html += "<p class=\"note\">No frame could be compared, so there is no distance to draw.</p>"
        }
        return html + "</section>\n"
    }

    /// Writes the page atomically: a temporary sibling renamed into place, so a reader never sees half a report.
    public static func write(_ report: ClipReport, to url: URL) throws {
        try checkOutputPath(url, input: report.input.map { URL(fileURLWithPath: $0) })
        let tmp = temporarySibling(of: url)
        do {
            try Data(html(report).utf8).write(to: tmp)
            guard rename(tmp.path, url.path) == 0 else {
                throw ReportError.unwritable(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch let e as ReportError {
            unlink(tmp.path); throw e
        } catch {
            unlink(tmp.path); throw ReportError.unwritable(path: url.path, reason: error.localizedDescription)
        }
    }

    static func stamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: d)
    }

    static let style = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:920px;padding:16px;color:#1d232b;background:#fbfbfc}
        h1{font-size:22px;margin:4px 0}h2{font-size:17px;margin:22px 0 6px;border-bottom:1px solid #dde2e8;padding-bottom:3px}
        .sub,.note{color:#5d6875}table.facts th{text-align:left;padding:2px 14px 2px 0;color:#5d6875;font-weight:500;vertical-align:top}
        table.facts td{word-break:break-all}svg.chart{width:100%;height:auto;display:block;margin:6px 0 12px;background:#fff;border:1px solid #e3e7ec}
        svg .grid{stroke:#e9edf1;stroke-width:1}svg .frame{fill:none;stroke:#b9c1cb}svg .guide{stroke:#7b3fbf;stroke-dasharray:2 3}
        svg text{font:12px system-ui,sans-serif;fill:#1d232b}svg .tick{fill:#5d6875;font-size:11px}svg .title{font-weight:600}
        svg .axis{fill:#5d6875}table.sheet{border-collapse:collapse}table.sheet th{font-weight:500;font-size:12px;color:#5d6875;padding:2px}
        table.sheet td{padding:2px}table.sheet img{width:100px;height:auto;display:block;image-rendering:auto}.none{color:#aaa;text-align:center}
        """
}

public enum ReportError: Error, CustomStringConvertible {
    case unwritable(path: String, reason: String)
    public var description: String {
        switch self {
        case let .unwritable(path, reason): return "\(path): cannot write the report (\(reason))"
        }
    }
}
