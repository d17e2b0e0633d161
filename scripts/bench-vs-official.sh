#!/usr/bin/env bash
# Same-run speed ratios against the official EG3D forward: a developer tool, not part of CI.
#
#   EG3D=<NVlabs/eg3d checkout> scripts/bench-vs-official.sh [ROUNDS]
#
# Absolute times on shared machines move by 2x between two machines of the same kind; a ratio measured side by side
# in one run holds. So this builds a full-width ffhq512-128 generator with the official code
# (tools/bench_official.py build), imports it (`avatarize models import`), then alternates, ROUNDS times (default 3):
# the official forward in PyTorch (mapping + synthesis, load excluded), `avatarize bench generator --model` in fp32,
# in bf16 where the CPU has AVX512_BF16, and `bench pipeline --full-size` (a whole frame: encoder, generator, faces,
# compositing, video). It prints every run, then medians and the ratios.
#
# Needs python3 with torch (CPU: pip install /opt/wheels/torch-*.whl, or the CPU wheel from pytorch.org) and numpy,
# and the official EG3D source: EG3D names the folder holding eg3d/ (without it the script clones
# https://github.com/NVlabs/eg3d into $SCRATCH). FRAMES (default 3) timed frames per run; THREADS (default: all cores)
# for both sides.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
FRAMES=${FRAMES:-3}
THREADS=${THREADS:-$(nproc)}
SCRATCH=${SCRATCH:-${TMPDIR:-/tmp}/avatarize-bench-official}
mkdir -p "$SCRATCH"

if [ -z "${EG3D:-}" ]; then
    EG3D=$SCRATCH/eg3d
    [ -d "$EG3D/eg3d" ] || git clone --depth 1 https://github.com/NVlabs/eg3d "$EG3D"
fi
[ -f "$EG3D/eg3d/training/triplane.py" ] || { echo "EG3D=$EG3D does not hold the official eg3d/ source" >&2; exit 1; }
python3 -c 'import torch, numpy' || { echo "python3 needs torch and numpy" >&2; exit 1; }

swift build -c release --product avatarize >&2
BIN=.build/release/avatarize
PKL=$SCRATCH/ffhq512-128-random.pkl
BUNDLE=$SCRATCH/ffhq512-128-random
if [ ! -f "$PKL" ]; then
    echo "building a full-width generator with the official code: $PKL" >&2
    PYTHONPATH=$EG3D/eg3d python3 tools/bench_official.py build "$PKL.tmp"
    mv "$PKL.tmp" "$PKL"
fi
if [ ! -d "$BUNDLE" ]; then
    "$BIN" models import "$PKL" -o "$BUNDLE" --role source >&2
fi

PRECISIONS=(fp32)
if grep -qw avx512_bf16 /proc/cpuinfo; then PRECISIONS+=(bf16); fi

field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" | tail -1; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A runs
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, threads $THREADS," \
     "precisions ${PRECISIONS[*]}, $FRAMES frames a run, $ROUNDS rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    line=$(PYTHONPATH=$EG3D/eg3d python3 tools/bench_official.py time "$PKL" --frames "$FRAMES" --threads "$THREADS")
    echo "round $round official:        $line"
    runs[official]+="$(echo "$line" | field official_frame_ms) "
    for p in "${PRECISIONS[@]}"; do
        line=$("$BIN" bench generator --model "$BUNDLE" --frames "$FRAMES" --threads "$THREADS" --precision "$p" | tail -1)
        echo "round $round generator $p:  $line"
        runs[gen-$p]+="$(echo "$line" | field frame_ms) "
        runs[sgemm]+="$(echo "$line" | field sgemm_gflops) "
        line=$("$BIN" bench pipeline --full-size --frames 4 --threads "$THREADS" --precision "$p" | tail -1)
        echo "round $round pipeline $p:   $line"
        runs[pipe-$p]+="$(echo "$line" | field frame_ms) "
    done
done

med() { echo "${runs[$1]}" | tr ' ' '\n' | grep . | median; }
official=$(med official)
echo
echo "medians of $ROUNDS alternating rounds (same-run sgemm $(med sgemm) GFLOP/s):"
echo "  official EG3D forward (PyTorch, $THREADS threads): $official ms a frame"
for p in "${PRECISIONS[@]}"; do
    g=$(med "gen-$p"); w=$(med "pipe-$p")
    awk -v o="$official" -v g="$g" -v w="$w" -v p="$p" 'BEGIN {
        printf "  avatarize generator %s: %.0f ms a frame, %.2fx faster than the official forward\n", p, g, o / g
        printf "  avatarize whole frame %s (bench pipeline --full-size): %.0f ms, %.2fx the generator alone\n", p, w, w / g }'
done
