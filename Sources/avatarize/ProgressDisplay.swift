import Foundation

/// One self-rewriting status line on a terminal (frames done/total, rate, ETA); silent when stderr is
/// not a terminal, so logs and CI output stay clean. Rate and ETA are measured from the start of the
/// current phase (a new unit, or a count that starts again), so a render's ETA ignores the encoding before it.
final class ProgressDisplay: @unchecked Sendable {
    private let label: String
    private let enabled: Bool
    private var phaseUnit: String?
    private var phaseBegan = Date()
    private var lastDone = 0
    private var lastDraw = Date.distantPast
    private var drewSomething = false

    /// The display whose line is on screen, so warnings and errors can clear it before printing.
    nonisolated(unsafe) private static var active: ProgressDisplay?
    private static let lock = NSLock()

    init(label: String, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.enabled = enabled
    }

    func update(done: Int, total: Int?, unit: String = "frames") {
        guard enabled else { return }
        let now = Date()
        if unit != phaseUnit || done < lastDone {
            phaseUnit = unit
            phaseBegan = now
        }
        lastDone = done
        guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(phaseBegan)
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
        line += String(format: "  %.1f %@/s", rate, unit.hasPrefix("frames") ? "fps" as NSString : unit as NSString)
        Self.lock.withLock {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
            Self.active = self
        }
        drewSomething = true
    }

    /// Clears the line so the summary that follows starts clean.
    func finish() {
        guard enabled, drewSomething else { return }
        Self.lock.withLock {
            FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
            if Self.active === self { Self.active = nil }
        }
        drewSomething = false
    }

    /// Clears whatever progress line is on screen (before a warning or an error is printed).
    static func clearActiveLine() {
        let shown = lock.withLock { active }
        shown?.finish()
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
