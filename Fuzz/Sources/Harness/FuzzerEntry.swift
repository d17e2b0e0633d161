// How a fuzz executable starts. SwiftPM links an executable target with `--defsym main=<Target>_main`
// (so that test targets can link executables); the targets are built with -parse-as-library, because the
// file only defines functions, so each defines `<Target>_main` itself with @_cdecl and calls
// `runFuzzer`, which hands control to libFuzzer's driver (LLVMFuzzerRunDriver, in the runtime that
// -sanitize=fuzzer links). A main.swift with top-level code instead trips an internal error in ld.gold
// when it meets libFuzzer's own main (Swift 6.3, gold 2.40).

@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// Runs libFuzzer over `test` with the process's arguments (-runs=, -max_total_time=, corpus folders).
public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ test: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt {
    var count = argc
    var vector = argv
    return llvmFuzzerRunDriver(&count, &vector, test)
}
