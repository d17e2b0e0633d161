import Foundation
import Jobs
import Pipeline
import Reports

/// The dashboard's HTML pages, written server-side; every string that comes from the queue (paths, errors,
/// worker names, keys) goes through `htmlEscaped`.
struct Pages {
    let app: DashboardApp
    private func h(_ s: String) -> String { htmlEscaped(s) }

    private func shell(title: String, page: String, live: String?, extra: [String: String] = [:], _ main: String) -> String {
        var attributes = "data-page=\"\(page)\" data-refresh=\"\(app.options.refreshSeconds)\""
        if let live { attributes += " data-live=\"\(h(live))\"" }
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { attributes += " data-\(k)=\"\(h(v))\"" }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(h(title)) · avatarize</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <link rel="icon" href="data:,"><link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>
            <body \(attributes)>
            <header><span class="brand">avatarize</span><a href="/">Overview</a><a href="/jobs">Jobs</a>
            <span class="queue">\(h(app.queue.displayLocation))\(app.options.readOnly ? " · read-only" : "") · updated <span data-field="refreshed">now</span></span></header>
            <main>
            \(main)
            </main></body></html>

            """
    }

    private func csrf() -> String { "<input type=\"hidden\" name=\"csrf\" value=\"\(h(app.csrfToken))\">" }

    /// The action buttons a job in this state allows (none when read-only).
    func actions(_ job: JobView) -> String {
        guard !app.options.readOnly else { return "" }
        var out = ""
        if job.state == .dead || job.state == .cancelled {
            out += "<form class=\"inline\" method=\"post\" action=\"/jobs/\(job.id)/retry\">\(csrf())<button class=\"primary\" type=\"submit\" name=\"retry\">Retry</button></form>"
        }
        if job.state == .queued || job.state == .running {
            out += "<form class=\"inline\" method=\"post\" action=\"/jobs/\(job.id)/cancel\">\(csrf())<button type=\"submit\" name=\"cancel\">Cancel</button></form>"
        }
        if job.state == .queued || job.state == .dead || job.state == .cancelled {
            out += "<form class=\"inline\" method=\"post\" action=\"/jobs/\(job.id)/requeue\">\(csrf())<input type=\"hidden\" name=\"priority\" value=\"\(job.priority + 10)\"><button type=\"submit\" name=\"requeue\">Re-queue at priority \(job.priority + 10)</button></form>"
        }
        return out
    }

    static func name(_ path: String?) -> String { path.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "?" }

    static func eta(_ s: Double?) -> String {
        guard let s else { return "–" }
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600) h \(t % 3600 / 60) min" : t >= 60 ? "\(t / 60) min \(t % 60) s" : "\(t) s"
    }

    static func age(_ d: Date, now: Date = Date()) -> String {
        let s = max(0, Int(now.timeIntervalSince(d)))
        return s < 60 ? "\(s) s ago" : s < 3600 ? "\(s / 60) min ago" : "\(s / 3600) h ago"
    }

    static func stamp(_ d: Date?) -> String {
        guard let d else { return "–" }
        return ISO8601DateFormatter().string(from: d)
    }

    func overview() async throws -> String {
        let o = try await app.overview()
        var m = "<h1>Queue overview</h1><div class=\"cards\">"
        for state in JobState.allCases {
            m += "<a class=\"card \(state.rawValue)\" href=\"/jobs?state=\(state.rawValue)\"><span class=\"n\" data-field=\"count-\(state.rawValue)\">\(o.status.counts[state.rawValue] ?? 0)</span>\(state.rawValue)</a>"
        }
        m += "</div><p class=\"muted\"><span data-field=\"waiting\">\(o.status.waitingRetry)</span> queued job(s) waiting out a retry backoff.</p>"
        m += "<h2>Throughput since <span data-field=\"throughput-since\">\(Self.stamp(o.throughput.since))</span></h2>"
        m += "<p class=\"muted\">The last hour, or since the first claim in it when work began later.</p><div class=\"cards\">"
        m += "<div class=\"card\"><span class=\"n\" data-field=\"jobs-per-minute\">\(String(format: "%.2f", o.throughput.jobsPerMinute))</span>jobs per minute</div>"
        m += "<div class=\"card\"><span class=\"n\" data-field=\"frames-per-minute\">\(String(format: "%.1f", o.throughput.framesPerMinute))</span>frames per minute</div>"
        m += "<div class=\"card\"><span class=\"n\" data-field=\"jobs-finished\">\(o.throughput.jobs)</span>jobs finished</div></div>"

        m += "<h2>Running (<span data-field=\"running-count\">\(o.running.count)</span>)</h2>"
        m += "<table id=\"running\"><thead><tr><th>Job</th><th>Output</th><th>Worker</th><th>Progress</th><th>fps</th><th>ETA</th></tr></thead><tbody>"
        for r in o.running {
            m += "<tr><td><a href=\"/jobs/\(r.job.id)\">#\(r.job.id)</a></td><td class=\"path\">\(h(r.job.output ?? r.job.kind))</td><td>\(h(r.job.worker ?? "?"))</td>"
            m += "<td><span class=\"bar\"><span data-width=\"\(String(format: "%.1f", r.fraction * 100))\"></span></span> \(r.job.progressDone)/\(r.job.progressTotal)</td>"
            m += "<td>\(r.framesPerSecond.map { String(format: "%.2f", $0) } ?? "–")</td><td>\(Self.eta(r.etaSeconds))</td></tr>"
        }
        m += "</tbody></table>"

        m += "<h2>Workers seen in the last hour</h2><table id=\"workers\"><thead><tr><th>Worker</th><th>Last heartbeat or event</th><th>Current job</th></tr></thead><tbody>"
        for w in o.workers {
            m += "<tr><td>\(h(w.name))</td><td>\(Self.age(w.lastSeen)) <span class=\"muted\">\(Self.stamp(w.lastSeen))</span></td>"
            m += "<td>\(w.currentJob.map { "<a href=\"/jobs/\($0)\">#\($0)</a>" } ?? "<span class=\"muted\">idle</span>")</td></tr>"
        }
        if o.workers.isEmpty { m += "<tr><td colspan=\"3\" class=\"muted\">none</td></tr>" }
        m += "</tbody></table>"

        m += "<h2>Recent failures</h2><table id=\"failures\"><thead><tr><th>Job</th><th>Input</th><th>Error</th><th>Finished</th><th></th></tr></thead><tbody>"
        for j in o.failures {
            m += "<tr><td><a href=\"/jobs/\(j.id)\">#\(j.id)</a></td><td class=\"path\">\(h(Self.name(j.input)))</td><td class=\"error\">\(h(j.lastError ?? ""))</td>"
            m += "<td>\(Self.stamp(j.finishedAt))</td><td>\(actions(j))</td></tr>"
        }
        if o.failures.isEmpty { m += "<tr><td colspan=\"5\" class=\"muted\">none</td></tr>" }
        m += "</tbody></table>"
        return shell(title: "Overview", page: "overview", live: "/api/overview", m)
    }

    func jobs(_ query: JobPageQuery) async throws -> String {
        let page = try await app.queue.page(query)
        var m = "<h1>Jobs\(query.state.map { " · \($0.rawValue)" } ?? "")</h1>"
        m += "<form class=\"filters\" method=\"get\" action=\"/jobs\"><select name=\"state\"><option value=\"\">any state</option>"
        for s in JobState.allCases {
            m += "<option value=\"\(s.rawValue)\"\(query.state == s ? " selected" : "")>\(s.rawValue)</option>"
        }
        m += "</select><input type=\"search\" name=\"q\" minlength=\"\(JobPageQuery.minimumSearchLength)\" placeholder=\"input or output name\" value=\"\(h(query.search ?? ""))\"><button type=\"submit\">Filter</button></form>"
        m += "<table id=\"jobs\"><thead><tr><th>Job</th><th>State</th><th>Input</th><th>Output</th><th>Tries</th><th>Progress</th><th>Priority</th><th>Created</th></tr></thead><tbody>"
        for r in page.jobs {
            let j = JobView(r)
            m += "<tr data-job=\"\(j.id)\"><td><a href=\"/jobs/\(j.id)\">#\(j.id)</a></td>"
            m += "<td><span class=\"state \(j.state.rawValue)\" data-field=\"state-\(j.id)\">\(j.state.rawValue)</span></td>"
            m += "<td class=\"path\">\(h(Self.name(j.input)))</td><td class=\"path\">\(h(Self.name(j.output)))</td>"
            m += "<td data-field=\"attempts-\(j.id)\">\(j.attempts)/\(j.maxAttempts)</td>"
            m += "<td data-field=\"progress-\(j.id)\">\(j.progressTotal > 0 ? "\(j.progressDone)/\(j.progressTotal)" : "–")</td>"
            m += "<td>\(j.priority)</td><td>\(Self.stamp(j.createdAt))</td></tr>"
        }
        if page.jobs.isEmpty { m += "<tr><td colspan=\"8\" class=\"muted\">no jobs</td></tr>" }
        m += "</tbody></table><div class=\"pager\">"
        var base = URLComponents()
        base.queryItems = [query.state.map { URLQueryItem(name: "state", value: $0.rawValue) }, query.search.map { URLQueryItem(name: "q", value: $0) }].compactMap { $0 }
        if query.before != nil { m += "<a href=\"/jobs\(h(base.queryItems!.isEmpty ? "" : "?" + (base.percentEncodedQuery ?? "")))\">« newest</a>" }
        if let next = page.nextBefore {
            var more = base
            more.queryItems = (base.queryItems ?? []) + [URLQueryItem(name: "before", value: "\(next)")]
            m += "<a href=\"/jobs?\(h(more.percentEncodedQuery ?? ""))\" rel=\"next\">older »</a>"
        }
        m += "</div>"
        var live = URLComponents()
        live.queryItems = (base.queryItems ?? []) + (query.before.map { [URLQueryItem(name: "before", value: "\($0)")] } ?? [])
        return shell(title: "Jobs", page: "jobs", live: "/api/jobs" + (live.queryItems!.isEmpty ? "" : "?" + (live.percentEncodedQuery ?? "")), m)
    }

    func job(_ record: JobRecord, events: [JobEvent]) async throws -> String {
        let j = JobView(record)
        let payload = try? record.decodedPayload()
        var m = "<h1>Job #\(j.id) <span class=\"state \(j.state.rawValue)\">\(j.state.rawValue)</span></h1>"
        m += "<div class=\"actions\">\(actions(j))</div>"
        var facts: [(String, String)] = [("kind", j.kind), ("input", j.input ?? "?"), ("output", j.output ?? "?")]
        if let s = payload?.settings {
            facts.append(("style", s.style))
            if let v = s.smoothing { facts.append(("smoothing", v)) }
            if let v = s.camera { facts.append(("camera", v)) }
            if let v = s.layout { facts.append(("layout", v)) }
            for (name, value) in s.edits.sorted(by: { $0.key < $1.key }) { facts.append(("edit " + name, "\(value)")) }
        }
        if let seg = payload?.segment { facts.append(("segments", "\(seg.count) of \(seg.frames) frames" + (seg.index.map { ", this is \($0)" } ?? ""))) }
        facts += [("priority", "\(j.priority)"), ("attempts", "\(j.attempts) of \(j.maxAttempts)"), ("worker", j.worker ?? "–"),
                  ("created", Self.stamp(j.createdAt)), ("finished", Self.stamp(j.finishedAt)), ("key", j.key)]
        if let precision = j.precision { facts.append(("precision", precision)) }
        m += "<table class=\"facts\">" + facts.map { "<tr><th>\(h($0.0))</th><td class=\"path\">\(h($0.1))</td></tr>" }.joined()
        m += "<tr><th>progress</th><td data-field=\"progress-\(j.id)\">\(j.progressTotal > 0 ? "\(j.progressDone)/\(j.progressTotal)" : "–")</td></tr>"
        if let e = j.lastError { m += "<tr><th>last error</th><td class=\"error\">\(h(e))</td></tr>" }
        m += "</table>"
        if let figure = record.identity { m += identity(figure) }

        let inputExists = j.input.map { FileManager.default.fileExists(atPath: $0) } ?? false
        let outputExists = j.output.map { FileManager.default.fileExists(atPath: $0) } ?? false
        m += "<h2>Pictures</h2><div class=\"pictures\">"
        m += "<figure>" + (inputExists ? "<img alt=\"input, first frame\" src=\"/jobs/\(j.id)/input.png\">" : "<p class=\"muted\">input not readable here</p>") + "<figcaption>input, first frame</figcaption></figure>"
        m += "<figure>" + (outputExists ? "<img alt=\"output, first frame\" src=\"/jobs/\(j.id)/output.png\">" : "<p class=\"muted\">no output yet</p>") + "<figcaption>output, first frame</figcaption></figure></div>"
        if outputExists {
            m += "<h2>Output frames</h2><div class=\"strip\">" + (0..<MediaPreviews.stripLength).map {
                "<img alt=\"output frame \($0 + 1) of \(MediaPreviews.stripLength)\" src=\"/jobs/\(j.id)/strip/\($0).png\">"
            }.joined() + "</div>"
        }
        if let output = j.output, FileManager.default.fileExists(atPath: ReportLocation.forOutput(output).path) {
            m += "<h2>Report</h2><p><a id=\"report\" href=\"/jobs/\(j.id)/report\">Open the clip report</a> <span class=\"muted\">(\(h(ReportLocation.forOutput(output).lastPathComponent)))</span></p>"
        }
        m += "<h2>History</h2><table id=\"history\"><thead><tr><th>When</th><th>Event</th><th>Worker</th><th>Detail</th></tr></thead><tbody>"
        for e in events {
            let failure = e.kind == .dead || e.kind == .retryScheduled || e.kind == .expired
            m += "<tr><td>\(Self.stamp(e.at))</td><td>\(e.kind.rawValue)</td><td>\(h(e.worker ?? ""))</td><td\(failure ? " class=\"error\"" : "")>\(h(e.detail ?? ""))</td></tr>"
        }
        m += "</tbody></table>"
        return shell(title: "Job \(j.id)", page: "job", live: "/api/jobs/\(j.id)", extra: ["state": j.state.rawValue], m)
    }

    /// The output's identity figure (dlib descriptors of source and avatar faces), as the run summary gives it.
    func identity(_ s: IdentityFigure.Summary) -> String {
        func fixed(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
        let rows: [(String, String, String)] = [
            ("compared", "identity-compared", "\(s.compared) of \(s.frames) frames"),
            ("similarity, mean", "identity-mean", fixed(s.meanSimilarity)),
            ("similarity, 10th percentile", "identity-p10", fixed(s.similarityP10)),
            ("distance, mean", "identity-distance", fixed(s.meanDistance)),
            ("under dlib's same-person distance 0.6", "identity-share", s.shareSamePerson.map { String(format: "%.0f %%", 100 * $0) } ?? "–"),
            ("no plausible face on the avatar", "identity-avatar-missing", "\(s.avatarWithoutFace) frames"),
            ("no face in the source", "identity-source-missing", "\(s.sourceWithoutFace) frames"),
        ]
        return "<h2>Identity</h2><table class=\"facts\" id=\"identity\">"
            + rows.map { "<tr><th>\(h($0.0))</th><td data-field=\"\($0.1)\">\(h($0.2))</td></tr>" }.joined() + "</table>"
    }

    func login(failed: Bool) -> String {
        var m = "<div class=\"login\"><h1>Sign in</h1>"
        if failed { m += "<p class=\"error\">That token is not right.</p>" }
        m += "<form method=\"post\" action=\"/login\"><p><input type=\"password\" name=\"token\" placeholder=\"dashboard token\" autofocus></p><button class=\"primary\" type=\"submit\">Sign in</button></form></div>"
        return shell(title: "Sign in", page: "login", live: nil, m)
    }

    func error(status: Int, message: String) -> String {
        shell(title: "Error", page: "error", live: nil, "<h1>\(status)</h1><p class=\"error\">\(h(message))</p><p><a href=\"/\">Back to the overview</a></p>")
    }
}
