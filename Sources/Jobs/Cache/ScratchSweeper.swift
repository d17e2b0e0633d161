import Foundation

/// Removes the temporary folders (`avatarize-PID-UUID` in the temporary folder, made by the pipeline) of processes
/// on this machine that are gone: the PID no longer runs, or it now belongs to a process that started after the
/// folder was made (a reused PID, or a reboot).
public enum ScratchSweeper {
    @discardableResult
    public static func sweep(in directory: URL = FileManager.default.temporaryDirectory) -> [String] {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory.path) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix("avatarize-") {
            let parts = name.dropFirst("avatarize-".count).split(separator: "-", maxSplits: 1)
            guard parts.count == 2, let pid = Int32(parts[0]), pid > 0 else { continue }
            let url = directory.appendingPathComponent(name)
            guard let made = (try? manager.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date else { continue }
            if isGone(pid, since: made), (try? manager.removeItem(at: url)) != nil { removed.append(name) }
        }
        return removed
    }

    /// True when no process `pid` that could have made something at `made` still runs.
    static func isGone(_ pid: Int32, since made: Date) -> Bool {
        if kill(pid, 0) != 0 { return errno == ESRCH }
        guard let started = startTime(of: pid) else { return false }
        // A second's slack for clock granularity: only a process clearly younger than the folder is another one.
        return started.timeIntervalSince(made) > 1
    }

    /// When process `pid` started: field 22 of /proc/PID/stat (clock ticks after boot) plus the boot time.
    static func startTime(of pid: Int32) -> Date? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"),
              let boot = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        // Fields after the command name (which may hold spaces) start at field 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]),
              let line = boot.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let bootSeconds = Double(line.dropFirst("btime ".count)) else { return nil }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        return Date(timeIntervalSince1970: bootSeconds + ticks / max(hertz, 1))
    }
}
