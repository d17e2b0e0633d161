import ArgumentParser
import Foundation
import Models

/// `avatarize models`: lists the model bundles found on the search paths and what each is.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List model bundles (generators, encoders) and what each is.",
        discussion: "Searches $AVATARIZE_MODELS (colon-separated), ./models and ~/.avatarize/models, and any --path given."
    )

    @Option(name: .customLong("path"), help: "Extra folder to search (repeatable).") var paths: [String] = []

    func run() throws {
        let roots = paths.map { URL(fileURLWithPath: $0) } + ModelBundle.searchPaths()
        let found = ModelBundle.discover(in: roots)
        if found.isEmpty {
            print("no model bundles found in:")
            for r in roots { print("  \(r.path)") }
            return
        }
        for m in found {
            print("\(m.name)  [\(m.kind)]  \(m.path.path)")
            if !m.summary.isEmpty { print("    \(m.summary)") }
            if let p = m.problem { print("    problem: \(p)") }
        }
    }
}
