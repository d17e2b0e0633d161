#!/usr/bin/env python3
"""Makes samples/turning-head.mp4: the face of samples/talking-head.mp4 (a NASA public-domain portrait, see
make_sample.py) turned in 3D and talking, so that tests can check that the avatar follows head yaw, pitch and the
mouth. Known motion, written beside the clip as turning-head.json (per frame: yaw, pitch in radians, mouth 0..1):
  yaw(t)   = 0.35 sin(2π t / 4 s)         pitch(t) = 0.18 sin(2π t / 2.5 s + 1)
The JSON gives them in avatarize's HeadPose convention: yaw > 0 turns the face towards image right, pitch > 0
tilts it down (chin in). `turn` below tilts the face *up* for a positive angle, so the JSON's pitch is −pitch(t).
  mouth(t) = max(0, sin(2π t · 1.3 Hz))   (jaw drop, up to 14 px at 256²)
The face is lifted onto a head-shaped depth map (an ellipsoid plus a nose), rotated and projected orthographically
(backward warp by fixed-point iteration; small angles, no occlusion), so near parts move more than far ones as on
a real turning head. The mouth opens by pulling the lower lip and jaw down and filling the gap with a dark inside.
Landmark positions below were read from frame 0 with `avatarize faces samples/talking-head.mp4 --json F`.
Requirements: python3 with numpy, scipy, opencv-python-headless; the ffmpeg command.
Usage: python3 samples/make_turning_sample.py [--out samples/turning-head.mp4]"""
import argparse
import json
import math
import os
import subprocess
import tempfile

import cv2
import numpy as np
from scipy import ndimage

FPS, SECONDS, SIZE = 25, 4.0, 256
CENTER = (124.0, 120.0)       # (x, y) middle of the face
NOSE_TIP = (125.2, 118.5)     # landmark 30
LIP_Y, MOUTH_X = 141.5, (96.2, 149.2)   # between inner lips 62/66; corners 48 and 54
CHIN_Y = 178.0                # landmark 8


def motion(t):
    yaw = 0.35 * math.sin(2 * math.pi * t / 4.0)
    pitch = 0.18 * math.sin(2 * math.pi * t / 2.5 + 1.0)
    mouth = max(0.0, math.sin(2 * math.pi * t * 1.3))
    return yaw, pitch, mouth


def depth_map():
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    dx, dy = (x - CENTER[0]) / 80.0, (y - CENTER[1]) / 105.0
    z = 75.0 * np.sqrt(np.clip(1 - dx * dx - dy * dy, 0, None))
    z += 18.0 * np.exp(-((x - NOSE_TIP[0]) ** 2 + (y - NOSE_TIP[1] + 8) ** 2) / (2 * 11.0 ** 2))
    return ndimage.gaussian_filter(z, 2.0)


def open_mouth(img, amount):
    """Pulls everything below the lips (within the jaw) down by up to 14 px, the gap dark."""
    if amount <= 0:
        return img
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    half = (MOUTH_X[1] - MOUTH_X[0]) / 2 + 6
    mx = (MOUTH_X[0] + MOUTH_X[1]) / 2
    across = np.clip(1 - ((x - mx) / (half * 1.6)) ** 2, 0, 1)
    down = np.clip(1 - (y - LIP_Y) / (CHIN_Y + 25 - LIP_Y), 0, 1) * (y >= LIP_Y)
    shift = 14.0 * amount * across * np.where(y >= LIP_Y, np.maximum(down, 0.0), 0)
    sy = y - shift
    out = np.stack([ndimage.map_coordinates(img[..., c].astype(np.float32), [sy, x], order=1, mode="nearest")
                    for c in range(3)], -1)
    gap = (y >= LIP_Y) & (sy < LIP_Y) & (np.abs(x - mx) < half * (1 - 0.5 * ((y - LIP_Y) / 15.0) ** 2))
    out[gap] = (45, 12, 18)
    return out


def turn(img, z, yaw, pitch):
    """Backward orthographic warp of the depth-lifted image by yaw (about y) then pitch (about x)."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    cx, cy = CENTER
    sx, sy = x.copy(), y.copy()
    for _ in range(6):  # x_out = cx + (x - cx) cos yaw + z(x, y) sin yaw, same for y with pitch
        zz = ndimage.map_coordinates(z, [sy, sx], order=1, mode="nearest")
        sx = cx + (x - cx - zz * math.sin(yaw)) / math.cos(yaw)
        sy = cy + (y - cy + zz * math.sin(pitch)) / math.cos(pitch)
    return np.stack([ndimage.map_coordinates(img[..., c].astype(np.float32), [sy, sx], order=1, mode="nearest")
                     for c in range(3)], -1)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "turning-head.mp4"))
    a = ap.parse_args()
    cap = cv2.VideoCapture(os.path.join(here, "talking-head.mp4"))
    ok, frame = cap.read()
    assert ok, "cannot read samples/talking-head.mp4"
    face = frame[:, :, ::-1].astype(np.float32)
    z = depth_map()
    n = int(FPS * SECONDS)
    truth = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            yaw, pitch, mouth = motion(i / FPS)
            img = turn(open_mouth(face, mouth), z, yaw, pitch)
            cv2.imwrite(os.path.join(tmp, f"{i:04d}.png"), np.clip(img, 0, 255).astype(np.uint8)[:, :, ::-1])
            truth.append({"frame": i, "yaw": round(yaw, 5), "pitch": round(-pitch, 5) + 0.0, "mouth": round(mouth, 5)})
        subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-framerate", str(FPS), "-i", os.path.join(tmp, "%04d.png"),
                        "-i", os.path.join(here, "talking-head.mp4"), "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
                        "-pix_fmt", "yuv420p", "-crf", "20", "-preset", "slow", "-c:a", "copy", "-shortest", a.out], check=True)
    with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
        json.dump({"fps": FPS, "frames": truth}, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
