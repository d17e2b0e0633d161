#!/usr/bin/env bash
# First command for a newcomer: install what is missing, build avatarize, run the main job on the sample clip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product avatarize
mkdir -p out
.build/release/avatarize run samples/turning-head.mp4 -o out/avatar.mp4 --layout side-by-side
.build/release/avatarize probe out/avatar.mp4
echo
echo "The avatarize binary is .build/release/avatarize. To run the README's examples as written:"
echo "  export PATH=\"$PWD/.build/release:\$PATH\""
