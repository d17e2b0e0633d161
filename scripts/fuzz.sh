#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ and runs each over its seed corpus, then prints one line a
# target: executions, seconds, coverage (libFuzzer's cov: edges and ft: features at the end), crashes. Usage:
#   scripts/fuzz.sh [TARGET…] [-t SECONDS] [-r RUNS] [-u ROUND_SECONDS] [--no-build]
# TARGET is FuzzNumpy or Numpy (default: every Fuzz/Sources/Fuzz*/); only those are built. -t is the time
# per target (default 20), -r stops a target after that many executions instead. -u runs a target in rounds
# of ROUND_SECONDS over the corpus it grows, until a round adds no feature (coverage stopped growing) or -t
# is spent. One fuzzer runs at a time, in one process. Crashing inputs are kept in
# Fuzz/artifacts/<target>/ (ignored by git): add each as a regression test in the module's tests.
# The committed corpus is only read; what a run discovers goes to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
seconds=20
runs=""
round=""
build=1
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    -t) seconds="$2"; shift 2 ;;
    -r) runs="$2"; shift 2 ;;
    -u) round="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) names+=("Fuzz${1#Fuzz}"); shift ;;
  esac
done
named=1
if [ ${#names[@]} -eq 0 ]; then
  named=0
  # Fuzz targets are the Fuzz*/ folders whose file defines the fuzzer's entry.
  for d in Sources/Fuzz*/; do
    n=$(basename "$d")
    grep -qs LLVMFuzzerTestOneInput "$d$n.swift" && names+=("$n")
  done
fi
for n in "${names[@]}"; do
  [ -f "Sources/$n/$n.swift" ] || { echo "fuzz.sh: no fuzz target $n (Fuzz/Sources/$n/$n.swift)" >&2; exit 2; }
done
if [ "$build" = 1 ]; then
  # -O last (the last optimisation flag wins): the fuzzed code keeps its bounds and overflow checks even if
  # a package asks for -Ounchecked, and AddressSanitizer catches what unsafe pointers read past their buffers.
  # Targets named on the command line are built alone: FuzzJobFile needs the Jobs module and so its whole
  # graph (swift-nio, two BoringSSL copies, GRDB, PostgresNIO: about 870 build steps, 20 minutes on two
  # busy cores from clean), which the parsers in Tensors, Faces or Models do not.
  products=("")
  [ "$named" = 1 ] && products=("${names[@]}")
  for p in "${products[@]}"; do
    swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -O --scratch-path .build ${p:+--product "$p"} 2>&1 | grep -v '^\[' || true
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz.sh: build of ${p:-the fuzz targets} failed" >&2; exit 1; }
  done
fi
bin=.build/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
printf '%-22s %12s %8s %7s %7s %6s %8s\n' target executions seconds cov ft rounds crashes
for n in "${names[@]}"; do
  mkdir -p "$work/$n" "artifacts/$n" "corpus/$n"
  # A target's dictionary of tokens (Fuzz/dict/<target>.dict), where it has one.
  dict=()
  [ -f "dict/$n.dict" ] && dict=(-dict="dict/$n.dict")
  execs=0 took=0 rounds=0 ft=-1 cov="" status=0 crashes=0
  : > "$work/$n.log"
  while :; do
    limit=(-max_total_time="$seconds")
    [ -n "$round" ] && limit=(-max_total_time="$(( round < seconds - took ? round : seconds - took ))")
    [ -n "$runs" ] && limit=(-runs="$runs")
    set +e
    # A fresh TMPDIR so the targets' scratch files never meet another run's. SWIFT_BACKTRACE=enable=no: Swift's
    # own crash handler would otherwise answer a trap first and leave swift-backtrace waiting on a dead process,
    # so that libFuzzer never writes the crashing input.
    SWIFT_BACKTRACE=enable=no TMPDIR="$work" ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" "$bin/$n" "${limit[@]}" ${dict[@]+"${dict[@]}"} -timeout=10 -detect_leaks=0 -artifact_prefix="artifacts/$n/" -print_final_stats=1 \
      "$work/$n" "corpus/$n" > "$work/$n.round" 2>&1
    status=$?
    set -e
    cat "$work/$n.round" >> "$work/$n.log"
    rounds=$((rounds + 1))
    e=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$n.round" | tail -1)
    t=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$work/$n.round" | tail -1)
    execs=$((execs + ${e:-0})) took=$((took + ${t:-0}))
    crashes=$((crashes + $(grep -c '^artifact_prefix=\|Test unit written to' "$work/$n.round" || true)))
    # The last status line's coverage: "#N  DONE  cov: C ft: F corp: …".
    c=$(grep -o 'cov: [0-9]*' "$work/$n.round" | tail -1 | cut -d' ' -f2)
    f=$(grep -o 'ft: [0-9]*' "$work/$n.round" | tail -1 | cut -d' ' -f2)
    grew=0
    [ "${f:-0}" -gt "$ft" ] && grew=1
    cov=${c:-$cov} ft=${f:-$ft}
    [ -n "$round" ] && [ -z "$runs" ] && [ "$status" -eq 0 ] && [ "$grew" = 1 ] && [ "$took" -lt "$seconds" ] || break
  done
  printf '%-22s %12s %8s %7s %7s %6s %8s\n' "$n" "$execs" "$took" "${cov:-?}" "$ft" "$rounds" "$crashes"
  if [ "$status" -ne 0 ]; then
    failed=1
    echo "--- $n exited with $status; the end of its log:" >&2
    tail -40 "$work/$n.log" >&2
  fi
done
exit "$failed"
