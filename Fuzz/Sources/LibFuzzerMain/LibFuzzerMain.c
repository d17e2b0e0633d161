// SwiftPM links every executable with `--defsym main=<Target>_main` (so that tests can import
// executables), and -parse-as-library, which the fuzz targets need, emits no `<Target>_main`; libFuzzer's
// own main() is then never pulled in. Fuzz/Package.swift points each target's `<Target>_main` here
// instead, and this hands control to libFuzzer's driver with the target's LLVMFuzzerTestOneInput.
#include "LibFuzzerMain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test)(const uint8_t *data, size_t size));

int avatarize_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
