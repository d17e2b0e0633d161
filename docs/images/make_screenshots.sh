#!/usr/bin/env bash
# Re-makes the README's screenshots of the dashboard and of a clip report (needs a built avatarize, chromium and
# ffmpeg): a small batch of the sample clips is enqueued, one worker runs it while the dashboard serves the queue,
# and headless Chromium photographs the overview once jobs have finished, failed and one is part way, then the
# clip report the worker wrote for samples/turning-head.mp4.
# Usage: docs/images/make_screenshots.sh [path/to/avatarize]
set -euo pipefail
cd "$(dirname "$0")/../.."
AV=$(realpath "${1:-.build/release/avatarize}")
T=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
shoot() { # shoot URL WIDTH HEIGHT OUT.png
  chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --hide-scrollbars \
    --user-data-dir="$T/chromium" --window-size="$2,$3" --screenshot="$4" "$1" 2>/dev/null; }
status() { "$AV" status --queue "$Q" --json; }
count() { status | sed -n "s/.*\"$1\" *: *\([0-9]*\).*/\1/p" | head -1; }

# The batch: the turning head first, in the poster style (its report is the second picture), a file that is not a
# video (dead at once),
# the talking head under a few names, one of them looped to 32 s so that it is still running when the picture is
# taken, and a second style.
mkdir -p "$T/batch/clips"
cp samples/turning-head.mp4 "$T/batch/clips/turning-head.mp4"
for n in 01 02 03; do cp samples/talking-head.mp4 "$T/batch/clips/interview-$n.mp4"; done
ffmpeg -loglevel error -stream_loop 7 -i samples/talking-head.mp4 -c copy "$T/batch/clips/all-hands-meeting.mp4"
echo "minutes of the meeting, not a video" > "$T/batch/clips/meeting-notes.mp4"
cat > "$T/batch/first.yaml" <<'EOF'
kind: avatar
inputs: [clips/turning-head.mp4]
output: out/{clip}-{style}.mp4
settings:
  - style: poster
EOF
cat > "$T/batch/jobs.yaml" <<'EOF'
kind: avatar
inputs: [clips/meeting-notes.mp4, clips/interview-01.mp4, clips/all-hands-meeting.mp4, clips/interview-02.mp4, clips/interview-03.mp4]
output: out/{clip}-{style}.mp4
settings:
  - style: sketch
EOF
Q="sqlite:$T/queue.db"
"$AV" enqueue "$T/batch/first.yaml" --queue "$Q" >/dev/null
"$AV" enqueue "$T/batch/jobs.yaml" --queue "$Q" >/dev/null
cat > "$T/batch/more.yaml" <<'EOF'
kind: avatar
inputs: [clips/interview-01.mp4, clips/interview-02.mp4]
output: out/{clip}-{style}.mp4
settings:
  - style: poster
    camera: orbit
EOF
"$AV" enqueue "$T/batch/more.yaml" --queue "$Q" >/dev/null

"$AV" dashboard --queue "$Q" --port 0 > "$T/dashboard.log" 2>&1 & pids+=($!)
# A job cache of its own, so that the report shows the encode too rather than a track cached by an earlier run.
AVATARIZE_JOB_CACHE="$T/cache" "$AV" worker --queue "$Q" --name render-node-1 --poll-seconds 0.2 > "$T/worker.log" 2>&1 & pids+=($!)
for _ in $(seq 200); do grep -q "http://" "$T/dashboard.log" && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*/' "$T/dashboard.log" | head -1)

# Wait for two finished jobs, the dead one, and a running job a third of the way through.
for _ in $(seq 1200); do
  if [ "$(count succeeded)" -ge 2 ] && [ "$(count dead)" -ge 1 ]; then
    progress=$(status | tr -d ' \n' | sed -n 's/.*"running":\[{[^]]*"progressDone":\([0-9]*\),"progressTotal":\([0-9]*\).*/\1 \2/p')
    if [ -n "$progress" ] && [ "${progress% *}" -gt 0 ] && [ $((3 * ${progress% *})) -ge "${progress#* }" ]; then break; fi
  fi
  sleep 0.5
done
shoot "$URL" 1200 900 "$T/overview.png"
kill "${pids[1]}"

report=$(ls "$T"/batch/out/turning-head-*.report.html | head -1)
shoot "file://$report" 940 2650 "$T/report.png"
# JPEG keeps each picture small (under 250 KB); the pages are flat colours and text, which stay legible.
ffmpeg -loglevel error -y -i "$T/overview.png" -q:v 4 docs/images/dashboard.jpg
ffmpeg -loglevel error -y -i "$T/report.png" -q:v 7 docs/images/report.jpg
ls -l docs/images/dashboard.jpg docs/images/report.jpg
