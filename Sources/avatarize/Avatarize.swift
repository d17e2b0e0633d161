import ArgumentParser

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
            GenerateCommand.self,
            ModelsCommand.self,
            FacesCommand.self,
        ]
    )
}
