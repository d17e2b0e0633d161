#!/usr/bin/env bash
# A developer tool, not part of CI: schemathesis (pip install schemathesis) generates requests from the API's own
# OpenAPI document (Sources/Dashboard/API/openapi.json, served at /api/openapi.json) and checks every answer against
# it: no 5xx, only documented status codes, schema-valid bodies, 405 for undeclared methods, stateful sequences.
# Usage: scripts/api-fuzz.sh [MAX_EXAMPLES]   (builds avatarize in debug, starts a dashboard on a scratch SQLite queue)
# The findings it leaves are the API's deliberate refusals of schema-valid requests it cannot take: a job file that
# is not UTF-8 or not a job description (422), an empty upload (400), a search with a NUL (400).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v st >/dev/null || { echo "api-fuzz: schemathesis is not installed (pip install schemathesis)" >&2; exit 2; }
swift build --product avatarize >/dev/null
work=$(mktemp -d)
trap 'kill "$dash" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/in/clips" && cp samples/turning-head.mp4 "$work/in/clips/a.mp4"
token="fuzz-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "fuzz $token" > "$work/tokens"
port=$((20000 + RANDOM % 20000))
.build/debug/avatarize dashboard --queue "sqlite:$work/q.db" --port "$port" --token-file "$work/tokens" \
    --input-root "$work/in" --max-upload-bytes 1000000 > "$work/dashboard.log" 2>&1 &
dash=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/api/openapi.json" >/dev/null && break; sleep 0.2; done
st run "http://127.0.0.1:$port/api/openapi.json" --url "http://127.0.0.1:$port" \
    -H "Authorization: Bearer $token" --checks all --max-examples "${1:-300}"
