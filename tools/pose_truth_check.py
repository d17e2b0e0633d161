#!/usr/bin/env python3
"""Separates the landmark detector from the pose estimator on samples/turning-head.mp4 (issue 28, item 5).

The sample is samples/talking-head.mp4's first frame lifted onto a known depth map and turned by known angles
(make_turning_sample.py), so where each landmark *should* be in every frame is known: the first frame's landmarks
moved by the same warp. Comparing those with the landmarks avatarize finds tells whether the detector follows the
motion; comparing the known angles with the raw pose tells what the estimator makes of this geometry.

  avatarize faces samples/talking-head.mp4 --json /tmp/talking.json
  avatarize faces samples/turning-head.mp4 --json /tmp/turning.json
  python3 tools/pose_truth_check.py /tmp/talking.json /tmp/turning.json
Requirements: numpy, scipy, opencv-python-headless (make_turning_sample.py's)."""
import json
import math
import os
import sys

import numpy as np
from scipy import ndimage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "samples"))
import make_turning_sample as sample  # noqa: E402

# HeadPose's template (Sources/Faces/HeadPose.swift): depth behind the nose tip per outer-eye-corner span.
TEMPLATE = {"eyes": 135 / 450, "mouth corners": 125 / 450, "chin": 65 / 450}


def main(talking_json, turning_json):
    depth = sample.depth_map()
    cx, cy = sample.CENTER
    first = np.array(json.load(open(talking_json))["track"][0]["landmarks"], float).reshape(-1, 2)
    truth = json.load(open(os.path.join(ROOT, "samples", "turning-head.json")))["frames"]
    found = json.load(open(turning_json))["track"]

    def z_at(points):
        return ndimage.map_coordinates(depth, [points[:, 1], points[:, 0]], order=1)

    def moved(yaw, warp_pitch, points):   # the forward form of make_turning_sample.turn
        z = z_at(points)
        return np.stack([cx + (points[:, 0] - cx) * math.cos(yaw) + z * math.sin(yaw),
                         cy + (points[:, 1] - cy) * math.cos(warp_pitch) - z * math.sin(warp_pitch)], 1)

    picked = [30, 36, 45, 39, 42, 27, 33]   # nose and eyes: they do not move with the jaw drop
    known, seen, angles, raw = [], [], [], []
    for t, f in zip(truth, found):
        if not f.get("landmarks"):
            continue
        known.append(moved(t["yaw"], -t["pitch"], first)[picked])
        seen.append(np.array(f["landmarks"], float).reshape(-1, 2)[picked])
        angles.append((t["yaw"], t["pitch"]))
        raw.append((f["poseRaw"]["yaw"], f["poseRaw"]["pitch"]))
    known, seen, angles, raw = map(np.array, (known, seen, angles, raw))
    print(f"{len(known)} frames")
    print("detector: mean |found - known| per landmark (px):", np.abs(seen - known).mean(axis=(0, 2)).round(2).tolist())
    offset = lambda a: a[:, 0] - (a[:, 1] + a[:, 2]) / 2   # nose tip against the outer eye corners
    for k, name in ((0, "x"), (1, "y")):
        slope, icpt = np.polyfit(offset(known)[:, k], offset(seen)[:, k], 1)
        print(f"detector: nose-minus-eyes {name}: found = {slope:.3f} × known {icpt:+.2f} px "
              f"(r {np.corrcoef(offset(known)[:, k], offset(seen)[:, k])[0, 1]:.3f})")
    for k, name in ((0, "yaw"), (1, "pitch")):
        slope, icpt = np.polyfit(angles[:, k], raw[:, k], 1)
        print(f"estimator: raw {name} = {slope:.3f} × known {icpt:+.3f} rad (r {np.corrcoef(angles[:, k], raw[:, k])[0, 1]:.3f})")
    span = np.linalg.norm(first[45] - first[36])
    nose = z_at(first[[30]])[0]
    for name, idx in (("eyes", [36, 45]), ("mouth corners", [48, 54]), ("chin", [8])):
        print(f"geometry: {name} {(nose - z_at(first[idx]).mean()) / span:.3f} eye spans behind the nose tip "
              f"(the estimator's template: {TEMPLATE[name]:.3f})")


if __name__ == "__main__":
    main(*sys.argv[1:3])
