#!/usr/bin/env bash
# Re-makes the README's pictures of the demo models from samples/turning-head.mp4 (needs a built avatarize and
# ffmpeg). Usage: docs/images/make_images.sh [path/to/avatarize]
set -euo pipefail
cd "$(dirname "$0")/../.."
AV=${1:-.build/release/avatarize}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
CLIP=samples/turning-head.mp4
tile() { # tile OUT FRAME-LIST INPUTS...: one row of the given frame of each input (or frames of one input)
  local out=$1; shift; ffmpeg -loglevel error -y "$@" "$out"; }
# 1. What scripts/demo.sh makes: the aligned face beside its avatar, 4 moments of the clip.
"$AV" run "$CLIP" -o "$T/demo.mp4" --layout side-by-side --keep-track "$T/clip.track" --preset ultrafast
tile docs/images/demo-frames.jpg -i "$T/demo.mp4" -vf "select='eq(n\,5)+eq(n\,30)+eq(n\,55)+eq(n\,80)',tile=2x2" -frames:v 1 -q:v 3
# 2. Each style, frontal, the same frame.
for s in source caricature poster sketch; do
  "$AV" render "$T/clip.track" --source "$CLIP" --style "$s" --camera frontal -o "$T/style-$s.mp4" --preset ultrafast
done
tile docs/images/styles.jpg -i "$T/style-source.mp4" -i "$T/style-caricature.mp4" -i "$T/style-poster.mp4" -i "$T/style-sketch.mp4" \
  -filter_complex "[0]select='eq(n\,30)'[a];[1]select='eq(n\,30)'[b];[2]select='eq(n\,30)'[c];[3]select='eq(n\,30)'[d];[a][b][c][d]hstack=4" -frames:v 1 -q:v 3
# 3. Layouts and the camera from behind.
"$AV" render "$T/clip.track" --source "$CLIP" --layout paste-back -o "$T/paste.mp4" --preset ultrafast
"$AV" render "$T/clip.track" --source "$CLIP" --camera 3.1416,0 -o "$T/back.mp4" --preset ultrafast
tile docs/images/layouts.jpg -i "$T/paste.mp4" -i "$T/back.mp4" \
  -filter_complex "[0]select='eq(n\,55)',scale=-2:256[a];[1]select='eq(n\,55)',scale=-2:256[b];[a][b]hstack=2" -frames:v 1 -q:v 3
# 4. Edits: smile, mouth_open, blink, brows at +1.5 beside the plain frontal avatar.
for e in none smile mouth_open blink brows; do
  if [ $e = none ]; then extra=(); else extra=(--directions directions/demo --edit "$e=1.5"); fi
  "$AV" render "$T/clip.track" --source "$CLIP" --camera frontal "${extra[@]}" -o "$T/edit-$e.mp4" --preset ultrafast
done
tile docs/images/edits.jpg -i "$T/edit-none.mp4" -i "$T/edit-smile.mp4" -i "$T/edit-mouth_open.mp4" -i "$T/edit-blink.mp4" -i "$T/edit-brows.mp4" \
  -filter_complex "[0]select='eq(n\,5)'[a];[1]select='eq(n\,5)'[b];[2]select='eq(n\,5)'[c];[3]select='eq(n\,5)'[d];[4]select='eq(n\,5)'[e];[a][b][c][d][e]hstack=5" -frames:v 1 -q:v 3
echo "wrote docs/images/demo-frames.jpg styles.jpg layouts.jpg edits.jpg"
