import ArgumentParser
import Checkpoints
import Foundation
import Models
import Tensors

/// `avatarize models`: lists model bundles; `avatarize models import`: turns a checkpoint into one.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List model bundles, or import a checkpoint (EG3D pickle, e4e / PREIM3D .pt) as one.",
        subcommands: [ModelsListCommand.self, ModelsImportCommand.self],
        defaultSubcommand: ModelsListCommand.self
    )
}

struct ModelsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List model bundles (generators, encoders): layout, resolution, role, SHA-256 of the weights.",
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
            if let p = m.problem {
                print("    problem: \(p)")
                continue
            }
            let weights = m.path.appendingPathComponent(ModelBundle.weightsName)
            if let sha = try? FileDigest.sha256(of: weights) { print("    weights sha256: \(sha)") }
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

struct ModelsImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a checkpoint as a bundle, without Python.",
        discussion: """
        Reads EG3D network-snapshot pickles (G_ema; ffhq512-128.pkl, ffhq512-64.pkl, the rebalanced ones and \
        fine-tunes saved by the same training code) and e4e / pSp / PREIM3D / TriPlaneNet (v1, v2) encoder \
        checkpoints (torch zip or legacy format). The pickle reader runs no code: it only admits the torch, numpy \
        and EG3D names these files use and refuses anything else. PREIM3D and TriPlaneNet checkpoints need \
        --generator: their latent average comes from the generator, as their loaders take it (PREIM3D computes \
        it from 10000 samples, TriPlaneNet uses the generator's w_avg). A TriPlaneNet bundle keeps its tri-plane \
        encoder (refiner.safetensors) beside the W+ encoder. GOAE releases two files, the Swin-V2 encoder \
        (encoder_FFHQ.pt) and its AFA module (afa_FFHQ.pt): import the encoder with --afa afa_FFHQ.pt and \
        --generator (GOAE adds the generator's w_avg) into one bundle (afa.safetensors beside the encoder).
        """
    )

    @Argument(help: "Checkpoint file (.pkl or .pt).") var file: String
    @Option(name: [.short, .customLong("output")], help: "Bundle folder to create (default ./models/<name>).") var output: String?
    @Option(help: "source, style (generators) or encoder.") var role: String?
    @Option(help: "Bundle name (default: the file name without extension).") var name: String?
    @Option(help: "Generator bundle a PREIM3D, TriPlaneNet or GOAE encoder was trained with.") var generator: String?
    @Option(name: .customLong("afa"), help: "GOAE's AFA module (afa_FFHQ.pt), imported with its encoder (encoder_FFHQ.pt).") var adapter: String?
    @Option(help: "The weights' licence, recorded in the bundle (known releases such as ffhq512-128.pkl have theirs).") var license: String?
    @Option(name: .customLong("published-at"), help: "Where the weights are published (a URL), recorded in the bundle.") var publishedAt: String?

    func validate() throws {
        if let role, ImportRole(rawValue: role) == nil {
            throw ValidationError("--role must be one of \(ImportRole.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let t0 = Clock.now()
        let url = URL(fileURLWithPath: file)
        let sha = (try? FileDigest.sha256(of: url)).map { " (sha256 \($0))" } ?? ""
        let r = try ModelImporter.run(ImportRequest(
            file: url, output: output.map { URL(fileURLWithPath: $0) },
            role: role.flatMap(ImportRole.init(rawValue:)), name: name, generator: generator.map { URL(fileURLWithPath: $0) },
            adapter: adapter.map { URL(fileURLWithPath: $0) },
            provenance: "imported by avatarize models import from \(url.lastPathComponent)\(sha)",
            license: license, published: publishedAt))
        for line in r.summary { print(line) }
        print(String(format: "wrote %@ (%@) in %.2f s", r.bundle.path, r.kind, Clock.now() - t0))
    }
}
