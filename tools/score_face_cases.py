#!/usr/bin/env python3
"""Score `avatarize faces` on the cases of tools/make_face_cases.py against their dlib goldens.

For each case and each mode (Haar candidates verified by dlib's HOG — the default — and `--no-verify`,
every Haar candidate accepted), runs the built avatarize and counts, over the frames:
  recall     frames where dlib finds the subject and the tracker's face is the subject (its box centre
             inside the region where the case put the subject), over the frames where dlib finds it;
  wrong      frames where the tracker reports a face that is not the subject (a false positive or the
             other person);
  NME        the tracker's landmarks against dlib's, over the outer-eye-corner distance.
  turn       profile_turn cases only: the worst distance of the tracker's inner landmarks (27-67, those still
             facing the camera) to where the turn put them, over the unturned eye-corner distance, and the
             frames where dlib's landmarks are on the face (within 0.05 of that truth) but the tracker has none.
It also counts the raw detectors' false positives on every frame from the goldens: OpenCV's Haar frontal
boxes and dlib's HOG boxes (upsample 1) outside the subject region.

Usage: python3 tools/score_face_cases.py CASES_DIR [--avatarize .build/release/avatarize]
"""
import argparse
import json
import math
import os
import re
import subprocess
import tempfile


def inside(box, region):
    if region is None:
        return False
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


def turn_error(landmarks, truth, eyes):
    visible = [i for i in range(27, 68) if truth[i][2]]
    return sum(math.dist(landmarks[i], truth[i][:2]) for i in visible) / len(visible) / eyes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cases")
    ap.add_argument("--avatarize", default=".build/release/avatarize")
    args = ap.parse_args()
    golden = json.load(open(os.path.join(args.cases, "cases.json")))["cases"]
    print("%-24s %-9s %7s %6s %8s %8s %9s | %s" % ("case", "mode", "recall", "wrong", "NMEmean", "NMEmax", "ms/frame",
                                                  "raw FP: haar hog"))
    for name, frames in golden.items():
        haar_fp = sum(1 for f in frames for b in f["haar"] if not inside([b[0], b[1], b[0] + b[2], b[1] + b[3]], f["region"]))
        hog_fp = sum(1 for f in frames for b in f["hog"] if not inside(b[:4], f["region"]))
        for mode, extra in (("verified", []), ("haar-only", ["--no-verify"])):
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "t.json")
                log = subprocess.run([args.avatarize, "faces", os.path.join(args.cases, name + ".mp4"), "--json", out]
                                     + extra, check=True, capture_output=True, text=True).stdout
                track = json.load(open(out))["track"]
            ms = sum(float(x) for x in re.findall(r"([0-9.]+) ms/frame", log)[:2])
            dlib_frames = found = wrong = missed_on_face = 0
            nmes, turns = [], []
            eyes = math.dist(frames[0]["turned"][36][:2], frames[0]["turned"][45][:2]) if "turned" in frames[0] else None
            for g, t in zip(frames, track):
                measured = t["source"] != "filled"
                if measured and not inside(t["box"], g["region"]):
                    wrong += 1
                if eyes:
                    if measured:
                        turns.append(turn_error(t["landmarks"], g["turned"], eyes))
                    elif "landmarks" in g and turn_error(g["landmarks"], g["turned"], eyes) <= 0.05:
                        missed_on_face += 1
                if "landmarks" not in g:
                    continue
                dlib_frames += 1
                if measured and inside(t["box"], g["region"]):
                    found += 1
                    lm = g["landmarks"]
                    iod = math.dist(lm[36], lm[45])
                    nmes.append(sum(math.dist(a, b) for a, b in zip(t["landmarks"], lm)) / len(lm) / iod)
            print("%-24s %-9s %7.3f %6d %8.4f %8.4f %9.1f | %d %d%s" % (
                name, mode, found / max(dlib_frames, 1), wrong, sum(nmes) / max(len(nmes), 1), max(nmes or [float("nan")]),
                ms, haar_fp, hog_fp,
                " | turn worst %.4f, lost where dlib is on the face %d" % (max(turns or [float("nan")]), missed_on_face)
                if eyes else ""))


if __name__ == "__main__":
    main()
