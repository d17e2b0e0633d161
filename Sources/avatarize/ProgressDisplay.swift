import Foundation

/// One self-rewriting status line on a terminal (frames done/total, rate, ETA); silent when stderr is
/// not a terminal, so logs and CI output stay clean.
final class ProgressDisplay {
    private let label: String
    private let enabled: Bool
    private let began = Date()
    private var lastDraw = Date.distantPast
    private var drewSomething = false

    init(label: String, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.enabled = enabled
    }

    func update(done: Int, total: Int?, unit: String = "frames") {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(began)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var line = "\(label): \(done)"
        if let total, total > 0 {
            let pct = min(100, 100 * done / total)
            line += "/\(total) \(unit) \(pct)%"
            if rate > 0, done < total {
                line += "  ETA \(Self.clock(Double(total - done) / rate))"
            }
        } else {
            line += " \(unit)"
        }
        line += String(format: "  %.1f %@/s", rate, unit == "frames" ? "fps" as NSString : unit as NSString)
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
        drewSomething = true
    }

    /// Clears the line so the summary that follows starts clean.
    func finish() {
        guard enabled, drewSomething else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
