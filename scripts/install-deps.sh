#!/usr/bin/env bash
# Installs the Debian packages avatarize builds and tests against, skipping what is already there.
# Needs a Swift 6 toolchain on PATH (swift.org's Linux toolchain); everything else comes from apt.
set -euo pipefail
packages=(
  pkg-config
  libavformat-dev libavcodec-dev libswscale-dev libswresample-dev libavutil-dev  # FFmpeg's C libraries
  ffmpeg                      # the ffmpeg command: tests make clips with it; the bench compares against it
  libopenblas-dev liblapacke-dev                                              # BLAS and LAPACK for the networks
  libdnnl-dev                 # oneDNN: float32 and bf16 matmul kernels for the networks
  libsqlite3-dev              # the embedded job queue
  postgresql                  # the shared job queue; tests start a throwaway server
  opencv-data                 # Haar cascades for face detection
  libdlib-data                # dlib's 68-landmark shape predictor
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
command -v swift >/dev/null || { echo "swift not found: install a Swift 6 toolchain from swift.org and put it on PATH" >&2; exit 1; }
