import Harness
import Jobs

/// A job file, read both as YAML and as JSON (the parser treats the two alike but for tabs):
/// a JobFile or a list of diagnostics, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let parser = JobFileParser()
    _ = try? parser.parse(text: text, path: "jobs.yaml")
    _ = try? parser.parse(text: text, path: "jobs.json")
    return 0
}

/// libFuzzer's entry (see Harness/FuzzerEntry.swift).
@_cdecl("FuzzJobFile_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
