#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver over this executable's LLVMFuzzerTestOneInput (see LibFuzzerMain.c).
int avatarize_fuzz_main(int argc, char **argv);
