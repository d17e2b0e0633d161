import ArgumentParser

/// `avatarize bench …`: benchmarks print per-stage times and rates; they are never part of the test suite.
/// Build with `-c release` before quoting numbers.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a stage's speed (per-stage milliseconds, throughput, GFLOP/s).",
        subcommands: [
            BenchTranscodeCommand.self,
            BenchEncoderCommand.self,
            BenchGeneratorCommand.self,
            BenchQueueCommand.self,
            BenchDashboardCommand.self,
            BenchFacesCommand.self,
            BenchPipelineCommand.self,
            BenchTrackCommand.self,
        ]
    )
}
