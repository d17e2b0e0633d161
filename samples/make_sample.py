#!/usr/bin/env python3
"""Makes samples/talking-head.mp4, avatarize's bundled sample clip, from public-domain material only.

Picture: the NASA portrait of astronaut Eileen Collins that scikit-image ships as `skimage.data.astronaut()`
(a NASA photograph, public domain). It is cropped around the face and animated with small, smooth head-like
motion (roll, drift, nods, zoom), so face tracking and temporal smoothing have something to do.
Sound: speech synthesised by espeak-ng (its output is not copyrightable material of others).

Requirements (only for re-making the sample, never at run time): python3 with numpy, scipy, scikit-image;
the ffmpeg and espeak-ng commands (Debian: apt-get install ffmpeg espeak-ng; pip install scikit-image).
Usage: python3 samples/make_sample.py [--out samples/talking-head.mp4]
"""
import argparse
import math
import os
import subprocess
import tempfile

import numpy as np
from scipy import ndimage
from skimage import data

FPS = 25
SECONDS = 4.0
SIZE = 256            # output side in pixels
CENTER = (135.0, 224.0)  # (row, col) of the face centre in the 512x512 portrait
WINDOW = 220.0        # side of the source window that maps to the output
SPEECH = ("Hello. I am a sample clip for avatarize. "
          "My head turns and nods a little, so the tracker has work to do.")


def frame(img, t):
    """Samples the portrait through a moving similarity transform at time t (seconds)."""
    roll = math.radians(4.0) * math.sin(2 * math.pi * 0.35 * t)
    drift_x = 6.0 * math.sin(2 * math.pi * 0.22 * t + 0.5)
    nod_y = 4.0 * math.sin(2 * math.pi * 0.9 * t)
    zoom = 1.0 + 0.04 * math.sin(2 * math.pi * 0.15 * t)
    scale = WINDOW / SIZE / zoom      # source pixels per output pixel
    c, s = math.cos(roll), math.sin(roll)
    m = scale * np.array([[c, -s], [s, c]])
    out_c = np.array([(SIZE - 1) / 2, (SIZE - 1) / 2])
    src_c = np.array([CENTER[0] + nod_y, CENTER[1] + drift_x])
    offset = src_c - m @ out_c
    chans = [ndimage.affine_transform(img[..., k].astype(np.float32), m, offset=offset,
                                      output_shape=(SIZE, SIZE), order=1, mode="nearest")
             for k in range(3)]
    return np.clip(np.stack(chans, -1) + 0.5, 0, 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "talking-head.mp4"))
    args = ap.parse_args()
    img = data.astronaut()
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "speech.wav")
        subprocess.run(["espeak-ng", "-s", "150", "-w", wav, SPEECH], check=True)
        n = int(FPS * SECONDS)
        enc = subprocess.Popen(
            ["ffmpeg", "-v", "error", "-y",
             "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{SIZE}x{SIZE}", "-r", str(FPS), "-i", "-",
             "-i", wav, "-t", str(SECONDS),
             "-c:v", "libx264", "-preset", "slow", "-crf", "23", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-b:a", "48k", "-ac", "1", "-ar", "22050",
             "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
             "-movflags", "+faststart", args.out],
            stdin=subprocess.PIPE)
        for i in range(n):
            enc.stdin.write(frame(img, i / FPS).tobytes())
        enc.stdin.close()
        if enc.wait() != 0:
            raise SystemExit("ffmpeg failed")
    print(f"wrote {args.out}: {n} frames at {FPS} fps, {SIZE}x{SIZE}, speech audio")


if __name__ == "__main__":
    main()
