#!/usr/bin/env bash
# First command for a newcomer: install what is missing, build avatarize, run the main job on the sample clip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product avatarize
mkdir -p out
.build/release/avatarize transcode samples/talking-head.mp4 out/talking-head.mp4
.build/release/avatarize probe out/talking-head.mp4
