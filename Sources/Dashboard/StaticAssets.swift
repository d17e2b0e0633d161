/// The dashboard's stylesheet and script, compiled into the binary: no build step, no CDN, nothing to install.
enum StaticAssets {
    static func response(_ name: String) -> DashboardResponse? {
        switch name {
        case "app.css": return DashboardResponse(contentType: "text/css; charset=utf-8", body: Array(css.utf8), headers: [("Cache-Control", "max-age=300")])
        case "app.js": return DashboardResponse(contentType: "text/javascript; charset=utf-8", body: Array(js.utf8), headers: [("Cache-Control", "max-age=300")])
        default: return nil
        }
    }

    static let css = """
        *{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d232b;background:#f5f6f8}
        header{background:#1d232b;color:#fff;padding:10px 20px;display:flex;gap:18px;align-items:baseline}
        header a{color:#fff;text-decoration:none;font-weight:500}header .brand{font-weight:700;font-size:16px}
        header .queue{margin-left:auto;color:#aab3bf;font-size:12px}main{max-width:1180px;margin:0 auto;padding:16px 20px}
        h1{font-size:20px;margin:6px 0 12px}h2{font-size:16px;margin:22px 0 8px}
        .cards{display:flex;gap:10px;flex-wrap:wrap}.card{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:10px 16px;min-width:130px;text-decoration:none;color:inherit}
        .card .n{font-size:26px;font-weight:600;display:block}.card.queued .n{color:#5d6875}.card.running .n{color:#1f6fd1}
        .card.succeeded .n{color:#2f8a4f}.card.dead .n{color:#c0392b}.card.cancelled .n{color:#8a6d3b}
        table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde2e8}
        th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef1f4;vertical-align:top}th{background:#f0f2f5;font-weight:600;font-size:13px}
        td.path{word-break:break-all;max-width:340px}.state{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;font-weight:600;background:#e9edf1}
        .state.running{background:#dbe8fb;color:#1f5fb8}.state.succeeded{background:#dcf1e3;color:#23703f}.state.dead{background:#f8dcd8;color:#a02b1f}
        .state.cancelled{background:#f3e9d6;color:#7a5c22}.bar{background:#e3e7ec;border-radius:4px;height:12px;width:180px;overflow:hidden;display:inline-block;vertical-align:middle}
        .bar>span{display:block;height:100%;background:#1f6fd1}.muted{color:#6b7682}.error{color:#a02b1f;white-space:pre-wrap;word-break:break-word}
        form.inline{display:inline}button{font:inherit;padding:3px 10px;border-radius:4px;border:1px solid #b9c1cb;background:#fff;cursor:pointer}
        button.primary{background:#1f6fd1;color:#fff;border-color:#1f6fd1}.filters{display:flex;gap:8px;margin:8px 0 12px;align-items:center}
        .filters input[type=search]{width:280px;padding:4px 6px}.pictures{display:flex;gap:14px;flex-wrap:wrap}.pictures figure{margin:0}
        .pictures img,.strip img{border:1px solid #dde2e8;background:#fff;max-width:200px;display:block}.strip{display:flex;gap:6px;flex-wrap:wrap}
        .facts th{width:150px;background:none;font-weight:500;color:#5d6875}.actions{display:flex;gap:8px;margin:10px 0}.login{max-width:360px;margin:60px auto}
        .pager{margin:10px 0;display:flex;gap:14px}
        """

    /// Live refresh: each page names a JSON endpoint in `data-live`; the script fetches it every few seconds and
    /// writes the new values into elements marked with `data-field` (text only, never HTML, so nothing a job's
    /// name contains can run), re-drawing the running jobs' bars, and reloads a job's page when its state moves.
    static let js = """
        "use strict";
        (function () {
          const body = document.body;
          // Progress bars carry their width as data: the CSP (style-src 'self') refuses inline style attributes.
          document.querySelectorAll("[data-width]").forEach(function (el) { el.style.width = el.dataset.width + "%"; });
          const url = body.dataset.live;
          const every = (Number(body.dataset.refresh) || 2) * 1000;
          if (!url) return;
          function set(name, value) {
            document.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) { el.textContent = String(value); });
          }
          function fmt(x, d) { return x == null ? "–" : Number(x).toFixed(d); }
          function eta(s) {
            if (s == null) return "–";
            s = Math.round(s);
            return s >= 3600 ? Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min" : s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
          }
          function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }
          function overview(d) {
            Object.keys(d.status.counts).forEach(function (k) { set("count-" + k, d.status.counts[k]); });
            set("waiting", d.status.waitingRetry);
            set("jobs-per-minute", fmt(d.throughput.jobs / Math.max(d.throughput.minutes, 1e-9), 2));
            set("frames-per-minute", fmt(d.throughput.frames / Math.max(d.throughput.minutes, 1e-9), 1));
            set("jobs-finished", d.throughput.jobs);
            set("throughput-since", d.throughput.since);
            const table = document.getElementById("running");
            if (!table) return;
            const tbody = table.tBodies[0];
            while (tbody.rows.length) tbody.deleteRow(0);
            d.running.forEach(function (r) {
              const row = tbody.insertRow();
              const a = document.createElement("a"); a.href = "/jobs/" + r.job.id; a.textContent = "#" + r.job.id;
              row.insertCell().appendChild(a);
              cell(row, r.job.output || r.job.kind, "path");
              cell(row, r.job.worker || "?");
              const td = row.insertCell();
              const bar = document.createElement("span"); bar.className = "bar";
              const fill = document.createElement("span"); fill.style.width = (100 * r.fraction).toFixed(1) + "%";
              bar.appendChild(fill); td.appendChild(bar);
              td.appendChild(document.createTextNode(" " + r.job.progressDone + "/" + r.job.progressTotal));
              cell(row, fmt(r.framesPerSecond, 2));
              cell(row, eta(r.etaSeconds));
            });
            set("running-count", d.running.length);
          }
          function jobs(list) {
            list.forEach(function (j) {
              set("state-" + j.id, j.state);
              const badge = document.querySelector('[data-field="state-' + j.id + '"]');
              if (badge) badge.className = "state " + j.state;
              set("progress-" + j.id, j.progressTotal > 0 ? j.progressDone + "/" + j.progressTotal : "–");
              set("attempts-" + j.id, j.attempts + "/" + j.maxAttempts);
            });
          }
          function job(d) {
            if (d.job.state !== body.dataset.state) { window.location.reload(); return; }
            set("progress-" + d.job.id, d.job.progressTotal > 0 ? d.job.progressDone + "/" + d.job.progressTotal : "–");
          }
          function tick() {
            fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
              .then(function (r) { return r.ok ? r.json() : null; })
              .then(function (d) {
                if (!d) return;
                if (body.dataset.page === "overview") overview(d);
                else if (body.dataset.page === "jobs") jobs(d);
                else if (body.dataset.page === "job") job(d);
                set("refreshed", new Date().toLocaleTimeString());
              })
              .catch(function () {});
          }
          setInterval(tick, every);
        })();
        """
}
