#!/usr/bin/env bash
# Runs the project's unsafe-pointer and threaded code under the sanitizers (issue 27). Three passes:
#  1. the C kernels' shared state (variant dispatch, oneDNN per-thread state, primitive cache) from many
#     threads at once, under ThreadSanitizer and then AddressSanitizer + UBSan (scripts/sanitize/kernel_threads.c);
#  2. the face, image, video, tensor, kernel and pipeline tests (the frame-size sweep included) and TriPlaneNet's
#     networks, built with AddressSanitizer (Swift and C targets alike) in .build-asan (Swift on Linux has no -sanitize=undefined;
#     the C kernels get UBSan in pass 1);
#  3. `avatarize faces` under valgrind on frame sizes whose rows are not a multiple of 16 pixels, to catch
#     writes by FFmpeg's hand-written SIMD, which ASan cannot see (it instruments only what is compiled here).
# Exits non-zero on the first report. Usage: scripts/sanitize.sh [kernels|tests|valgrind]... (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
passes=("$@")
[ ${#passes[@]} -gt 0 ] || passes=(kernels tests valgrind)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for pass in "${passes[@]}"; do
  case "$pass" in
  kernels)
    # gcc: Swift's clang ships a TSan runtime that expects libdispatch's blocks runtime in every program.
    for san in thread address,undefined; do
      echo "== C kernels from 8 threads under -fsanitize=$san"
      gcc -O1 -g -fsanitize="$san" -fno-sanitize-recover=all -ISources/CKernels/include -ISources/CKernels \
        Sources/CKernels/*.c scripts/sanitize/kernel_threads.c -ldnnl -lm -lpthread -ldl -o "$tmp/kernel_threads" 2>&1 \
        | { grep -v "Cannot export local symbol" || true; }
      TSAN_OPTIONS="halt_on_error=1" ASAN_OPTIONS="detect_leaks=1" "$tmp/kernel_threads"
    done
    ;;
  tests)
    echo "== tests under AddressSanitizer, in .build-asan"
    # The build runs swift-openapi-generator's plugin tool, itself built with ASan; its leak at exit is not ours.
    ASAN_OPTIONS="detect_leaks=0" swift build --build-tests --sanitize=address --scratch-path .build-asan
    # Leaks are not this pass's subject (FFmpeg and dlib keep process-lifetime caches).
    ASAN_OPTIONS="detect_leaks=0:halt_on_error=1" \
      swift test --skip-build --sanitize=address --scratch-path .build-asan \
      --filter 'TensorsTests|FacesTests|VideoTests|PipelineTests.FrameSizeSweepTests|PipelineTests.AvatarPipelineTests|CheckpointsTests.TriPlaneNetImportTests|CheckpointsTests.GOAEImportTests|ModelsTests.TriPlaneRefinerArchitectureTests|ModelsTests.EncoderPreprocessingTests'
    ;;
  valgrind)
    command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 1; }
    # A release build: under valgrind the debug build's face stage takes minutes a frame.
    swift build -c release --product avatarize
    # valgrind 3.19 cannot read the DWARF 5 that Swift writes; the symbol table is enough for its reports.
    strip --strip-debug -o "$tmp/avatarize" "$(swift build -c release --show-bin-path)/avatarize"
    bin=$tmp/avatarize
    for size in 360x640 520x520 333x501 1080x1920; do
      w=${size%x*}; h=${size#*x}; s=$((w < h ? w : h))
      fmt=yuv420p; [ $((w % 2)) -eq 0 ] && [ $((h % 2)) -eq 0 ] || fmt=yuv444p
      ffmpeg -v error -y -i samples/turning-head.mp4 -frames:v 2 -an -vf "scale=$s:$s,pad=$w:$h:($w-$s)/2:($h-$s)/2" \
        -c:v libx264 -preset ultrafast -pix_fmt $fmt "$tmp/$size.mp4"
      echo "== avatarize faces on $size under valgrind"
      valgrind -q --error-exitcode=99 --errors-for-leak-kinds=none "$bin" faces "$tmp/$size.mp4" --max-frames 2 \
        --json "$tmp/$size.json" >/dev/null
    done
    ;;
  *) echo "unknown pass '$pass' (kernels, tests, valgrind)" >&2; exit 2 ;;
  esac
done
echo "sanitize: clean (${passes[*]})"
