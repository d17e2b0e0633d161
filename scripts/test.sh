#!/usr/bin/env bash
# The test command (README's second command; .ci/run calls exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift test
