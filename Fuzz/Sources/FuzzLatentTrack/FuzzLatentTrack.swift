import Harness
import Pipeline

/// A latent track (safetensors with an avatarize header): refused when opened, or every frame reads.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let track = try? LatentTrack(url: ScratchFile.write(data, size, suffix: "track")) else { return 0 }
    for i in 0..<track.count {
        _ = try? track.frame(i)
        _ = try? track.seconds(i)
    }
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzLatentTrack_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
