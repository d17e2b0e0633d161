import Foundation

/// Locates the built `avatarize` executable for tests that start worker processes. `swift test` builds it into
/// the same folder as the test bundle; AVATARIZE_BIN overrides, and a search of this package's build folders is the
/// last resort (for runners that put the bundle elsewhere).
public enum AvatarizeExecutable {
    public enum LocateError: Error, CustomStringConvertible {
        case notFound([String])
        public var description: String {
            if case .notFound(let looked) = self {
                return "cannot find the avatarize executable (run `swift build` first, or set AVATARIZE_BIN); looked in: "
                    + looked.joined(separator: ", ")
            }
            return "cannot find the avatarize executable"
        }
    }

    public static func path(filePath: String = #filePath) throws -> String {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["AVATARIZE_BIN"], !explicit.isEmpty {
            candidates.append(explicit)
        }
        // The test process itself: .build*/debug/avatarizePackageTests.xctest (Linux) or a bundle inside it (macOS).
        var folders: [URL] = []
        if let executable = Bundle.main.executableURL { folders.append(executable.deletingLastPathComponent()) }
        folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        candidates += folders.map { $0.appendingPathComponent("avatarize").path }
        // Package root from this file: Tests/TestSupport/ → two folders up.
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: root.path) {
            let builds = entries.filter { $0.hasPrefix(".build") }.map { root.appendingPathComponent($0) }
            let found = builds.flatMap { build in
                ["debug", "release"].map { build.appendingPathComponent($0).appendingPathComponent("avatarize").path }
            }.filter { FileManager.default.isExecutableFile(atPath: $0) }
            // Prefer the most recently built when several scratch folders exist.
            candidates += found.sorted { modified($0) > modified($1) }
        }
        if let hit = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return hit }
        throw LocateError.notFound(candidates)
    }

    private static func modified(_ path: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
    }
}
