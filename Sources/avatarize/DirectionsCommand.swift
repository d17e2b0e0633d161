import ArgumentParser
import Foundation
import Models
import Pipeline

struct DirectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directions",
        abstract: "Make edit directions for --edit.",
        subcommands: [GANSpaceCommand.self]
    )
}

struct GANSpaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ganspace",
        abstract: "Principal directions of a generator's W space (GANSpace), written as direction files.",
        discussion: """
        Samples random z through the mapping network and writes the top principal components of W as \
        pc000.npy, pc001.npy, … (most variance first) plus ganspace.json with each one's standard deviation. \
        Use them with --directions DIR --edit pc000=2.

        Example: avatarize directions ganspace --samples 5000 -o out/ganspace
        """
    )

    @Option(help: "Generator bundle (default: the demo source generator).") var model: String?
    @Option(help: "Number of w samples.") var samples = 2000
    @Option(help: "Number of components to write.") var components = 20
    @Option(name: .shortAndLong, help: "Folder to write the direction files into.") var output: String

    func validate() throws {
        guard samples >= 2 else { throw ValidationError("--samples must be at least 2") }
        guard components >= 1 else { throw ValidationError("--components must be at least 1") }
    }

    func run() throws {
        let url: URL
        if let model { url = URL(fileURLWithPath: model) } else {
            warn(DemoModelFamily.notice)
            url = try DemoModelFamily.ensure().source
        }
        let g = try ModelBundle.open(url).loadGenerator()
        let t = Date()
        let pca = try GANSpace.compute(generator: g, samples: samples)
        try pca.write(to: URL(fileURLWithPath: output), count: components, samples: samples)
        let shown = pca.stds.prefix(5).map { String(format: "%.3f", $0) }.joined(separator: ", ")
        print(String(format: "%@: %d directions from %d samples in %.1f s; std of the first: %@", output,
                     min(components, pca.components.count), samples, Date().timeIntervalSince(t), shown))
    }
}
