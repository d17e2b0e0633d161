import ArgumentParser
import Foundation
import Models

/// `avatarize models`: lists the model bundles found on the search paths and what each is.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List model bundles (generators, encoders) and what each is.",
        discussion: "Searches $AVATARIZE_MODELS (colon-separated), ./models and $HOME/.avatarize/models, and any --path given, then lists the built-in demo family. Example: AVATARIZE_MODELS=~/models avatarize models"
    )

    @Option(name: .customLong("path"), help: "Extra folder to search (repeatable).") var paths: [String] = []

    func run() throws {
        let roots = paths.map { URL(fileURLWithPath: $0) } + ModelBundle.searchPaths()
        let found = ModelBundle.discover(in: roots)
        if found.isEmpty {
            print("no model bundles found in:")
            for r in roots { print("  \(r.path)") }
        }
        for m in found {
            print("\(m.name)  [\(m.kind)]  \(m.path.path)")
            if !m.summary.isEmpty { print("    \(m.summary)") }
            if let p = m.problem { print("    problem: \(p)") }
        }
        // The built-in family, used when --model/--encoder are not given.
        print("built-in demo models (used when no --model/--encoder is given; --style \(DemoModelFamily.sourceStyleName) or \(DemoModelFamily.styles.joined(separator: ", "))):")
        if let dir = try? DemoModelFamily.bundledDirectory() {
            for m in ModelBundle.discover(in: [dir]) { print("  \(m.name)  [\(m.kind)]  \(m.path.path)") }
        } else {
            print("  missing: copy avatarize_Models.resources beside the avatarize binary")
        }
    }
}
