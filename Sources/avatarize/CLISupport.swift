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
