import ArgumentParser
import Foundation
import Logging

/// Logging goes to stderr; bootstrapped once, on first use by any command.
let loggingBootstrapped: Void = {
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = ProcessInfo.processInfo.environment["AVATARIZE_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .notice
        return h
    }
}()

func makeLogger(_ label: String = "avatarize") -> Logger {
    _ = loggingBootstrapped
    return Logger(label: label)
}

/// Prints a warning line for the user on stderr.
func warn(_ message: String) {
    ProgressDisplay.clearActiveLine()
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}

/// Parses "WxH" (e.g. 640x360).
struct PictureSize: ExpressibleByArgument {
    let width: Int
    let height: Int
    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
        width = w; height = h
    }
}

/// ArgumentParser reads `--pitch -0.1` as the option `--pitch` without a value followed by the short flags
/// `-0.1`. No avatarize option is spelled with a digit, so a token that reads as a negative number (or a
/// list starting with one, e.g. `--camera -0.2,0.1`) after a long option is that option's value:
/// rewritten to `--pitch=-0.1`. Nothing after `--` is touched.
func joiningNegativeNumberValues(_ arguments: [String]) -> [String] {
    var out: [String] = []
    var passthrough = false
    for a in arguments {
        if passthrough { out.append(a); continue }
        if a == "--" { passthrough = true; out.append(a); continue }
        let chars = Array(a)
        let looksNegative = chars.count >= 2 && chars[0] == "-"
            && (chars[1].isNumber || (chars[1] == "." && chars.count >= 3 && chars[2].isNumber))
        if looksNegative, let prev = out.last, prev.hasPrefix("--"), prev.count > 2, !prev.contains("=") {
            out[out.count - 1] = prev + "=" + a
        } else {
            out.append(a)
        }
    }
    return out
}
