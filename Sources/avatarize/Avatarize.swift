import ArgumentParser
import Tensors

/// The root command. Subcommands live one per file beside this one; keep them thin and call library modules.
@main
struct Avatarize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "avatarize",
        abstract: "Turn talking-head videos into stylized 3D avatars.",
        discussion: """
        avatarize decodes a clip with FFmpeg, finds and aligns the face in every frame, inverts it into \
        EG3D's latent space, applies style and edits, renders the avatar and writes a video that keeps the \
        source frame rate and audio.
        """,
        subcommands: [
            RunCommand.self,
            EncodeCommand.self,
            RenderCommand.self,
            DirectionsCommand.self,
            ProbeCommand.self,
            TranscodeCommand.self,
            BenchCommand.self,
            EnqueueCommand.self,
            WorkerCommand.self,
            StatusCommand.self,
            JobsCommand.self,
            CacheCommand.self,
            DashboardCommand.self,
            GenerateCommand.self,
            ModelsCommand.self,
            EncoderCommand.self,
            FacesCommand.self,
        ]
    )

    /// Sets up the numeric engine for the whole process (threads, single-threaded BLAS, allocator),
    /// then parses and runs the command as ArgumentParser's own main does.
    static func main() async {
        Parallel.configure()
        Allocator.keepFreedMemory()
        do {
            var command = try parseAsRoot(joiningNegativeNumberValues(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            ProgressDisplay.clearActiveLine()  // the message starts on a clean line, not after the progress
            exit(withError: error)
        }
    }
}
